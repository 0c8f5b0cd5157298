# Minimal stubs for the parts of qasync 0.28 the app and tests use (qasync ships no py.typed).
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from PySide6.QtCore import QCoreApplication

_F = TypeVar("_F", bound=Callable[..., Any])
_P = ParamSpec("_P")
_T = TypeVar("_T")

class QEventLoop(asyncio.SelectorEventLoop):
    def __init__(self, app: QCoreApplication | None = ..., set_running_loop: bool = ...,
                 already_running: bool = ...) -> None: ...
    def __enter__(self) -> QEventLoop: ...
    def __exit__(self, *args: object) -> None: ...

# The decorated slot schedules the coroutine and returns its task (errors go to sys.excepthook).
def asyncSlot(
    *args: Any, **kwargs: Any
) -> Callable[[Callable[_P, Coroutine[Any, Any, _T]]], Callable[_P, asyncio.Task[_T]]]: ...
def asyncClose(fn: _F) -> _F: ...
async def asyncWrap(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T: ...
def run(main: Coroutine[Any, Any, _T], *, debug: bool | None = ...) -> _T: ...
