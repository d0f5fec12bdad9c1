"""BitcoinAverage v2 REST routes (to be filled in)."""

from fastapi import APIRouter

router = APIRouter(tags=["bitcoinaverage"])
