"""Seed 001's family: usage and costs per user, per organization and per tenant."""
