"""Seed 000's family: monthly active end users of the Teams bot, with their tickets."""

from fastapi import APIRouter

router = APIRouter(tags=["monthly active users"])
