"""Seed 002: usage over time per account, in any time zone."""

from fastapi import APIRouter

router = APIRouter(tags=["usage analytics"])
