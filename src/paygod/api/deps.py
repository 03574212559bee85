"""FastAPI dependencies shared by routers."""

from __future__ import annotations

from fastapi import Request

from paygod.bootstrap import Kernel


def get_kernel(request: Request) -> Kernel:
    kernel: Kernel = request.app.state.kernel
    return kernel
