"""HTTP service for seqdigits (Litestar on uvicorn)."""
