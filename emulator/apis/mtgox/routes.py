"""MtGox legacy HTTP routes (to be filled in)."""

from fastapi import APIRouter

router = APIRouter(tags=["mtgox"])
