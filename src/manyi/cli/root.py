"""The root of the command line: --version, --debug, and ``main`` with its last line of defence."""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated, Any

import typer

from manyi.cli.common import (
    app,
    err,
    error_head,
    out,
)
from manyi.i18n import ManyiError, default_lang, t


def _version(value: bool) -> None:
    if value:
        from manyi import __version__

        out.print(f"manyi {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="show the version / 显示版本"
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks of internal errors / 显示内部错误详情")
    ] = False,
) -> None:
    """manyi (满意): customer-satisfaction management. 客户满意度管理。"""


def argv_lang(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in ("zh", "en") else default_lang()
        if a.startswith("--lang="):
            v = a.split("=", 1)[1]
            return v if v in ("zh", "en") else default_lang()
    return default_lang()


class BarReporter:
    """A Rich progress bar per stage of a long read (the file's megabytes with their speed,
    then its columns), on stderr, gone when the read is done."""

    def __init__(self, lang: str):
        self.lang = lang
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int, unit: str) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        if self.progress is None:
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[size]}"),
                                     TextColumn("{task.fields[speed]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                     console=err, transient=True)
            self.progress.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(t(stage, self.lang), total=total, size="", speed="")
        task = self.tasks[stage]
        self.progress.update(task, completed=done, total=total)
        shown = self.progress.tasks[task]
        if unit == "bytes":
            size = DownloadColumn().render(shown)
            speed = f"{done / 2**20 / shown.elapsed:,.0f} MB/s" if done and shown.elapsed else ""
        else:
            size, speed = MofNCompleteColumn().render(shown), ""
        self.progress.update(task, size=size, speed=speed)
        if all(x.finished for x in self.progress.tasks) and stage in ("progress.check", "progress.parts", "progress.bootstrap", "progress.compile"):
            self.progress.stop()
            self.progress, self.tasks = None, {}


def click_exceptions() -> Any:
    """Click's exceptions as Typer raises them (Typer ≥ 0.17 carries its own copy of Click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older Typer runs on Click itself
        from click import exceptions
    return exceptions


def usage_error(exc: Any, lang: str) -> None:
    """A mistake in the command line (missing argument, unknown option, a value of the wrong
    type): Typer's own panel in English; in Chinese the usage line, the message and where to
    find help in Chinese (the detail Click adds for a wrong value stays as Click wrote it)."""
    ex = click_exceptions()
    if lang != "zh" or type(exc).__name__ == "NoArgsIsHelpError":
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        return
    ctx = getattr(exc, "ctx", None)
    param = getattr(exc, "param", None)
    hint = getattr(exc, "param_hint", None)
    if hint is None and param is not None:
        try:
            hint = param.get_error_hint(ctx)
        except TypeError:  # Typer's own parameters take no context
            hint = param.get_error_hint()
    name = " / ".join(hint) if isinstance(hint, list | tuple) else str(hint or "")
    if isinstance(exc, ex.MissingParameter):
        text = t("cli.usage_missing", lang, name=name)
    elif isinstance(exc, ex.NoSuchOption):
        text = t("cli.usage_no_option", lang, name=exc.option_name)
        if exc.possibilities:
            text += t("cli.usage_did_you_mean", lang, names=", ".join(sorted(exc.possibilities)))
    elif isinstance(exc, ex.BadParameter):
        text = t("cli.usage_bad_value", lang, name=name, detail=exc.message)
    else:
        text = t("cli.usage_other", lang, detail=exc.format_message())
    if ctx is not None:
        err.print(t("cli.usage_line", lang, usage=ctx.get_usage().removeprefix("Usage: ")),
                  markup=False, highlight=False)
    err.print(error_head(lang), end="")
    err.print(text, markup=False, highlight=False)
    if ctx is not None:
        err.print(t("cli.usage_help", lang, command=f"{ctx.command_path} --help"),
                  markup=False, highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Run the command line. A user's mistake exits 2 with its message (in each command); any
    other exception is an internal error: a short message with a bug-report hint, exit 1
    (``manyi --debug ...`` shows the traceback). numpy/pandas runtime warnings stay quiet:
    what they would say is reported as a message where it matters."""
    import warnings

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.filterwarnings("ignore", module="pandas")
    warnings.filterwarnings("ignore", module="numpy")
    from manyi.io.progress import reporting

    # a progress bar on terminals, for the commands that read files (not the servers)
    serving = bool(args) and args[0] in ("serve", "worker")
    if not serving:  # a command's arrays reused once freed, not faulted in anew (manyi.core.heap)
        from manyi.core.heap import keep_freed_memory

        keep_freed_memory()
    bar = BarReporter(argv_lang(args)) if err.is_terminal and not serving else None
    ex = click_exceptions()

    try:
        with reporting(bar):
            code = app(args=args, prog_name="manyi", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except SystemExit:
        raise
    except ex.ClickException as exc:  # a mistake in the command line itself: exit 2
        usage_error(exc, argv_lang(args))
        sys.exit(exc.exit_code)
    except typer.Abort:  # end of input at a prompt
        err.print(t("cli.interrupted", argv_lang(args)), highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print(t("cli.interrupted", argv_lang(args)), highlight=False)
        sys.exit(130)
    except ManyiError as exc:  # raised outside a command's own handler
        lg = argv_lang(args)
        err.print(error_head(lg), end="")
        err.print(exc.render(lg), markup=False, highlight=False)
        sys.exit(2)
    except OSError as exc:  # a file that cannot be read or written: the user's to fix
        if exc.errno == errno.EPIPE:  # the reader of a pipe has gone (| head): quietly
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushed at exit, to nowhere
            sys.exit(1)
        lg = argv_lang(args)
        err.print(error_head(lg), end="")
        reason = exc.strerror or str(exc)
        if getattr(exc, "filename", None):
            text = t("cli.os_error", lg, file=str(exc.filename), reason=reason)
        else:
            text = t("cli.os_error_plain", lg, reason=reason)
        err.print(text, markup=False, highlight=False)
        sys.exit(2)
    except MemoryError:
        err.print(t("cli.out_of_memory", argv_lang(args)), highlight=False)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            raise
        lg = argv_lang(args)
        detail = f"{type(exc).__name__}: {exc}"
        err.print(error_head(lg), end="")
        err.print(t("cli.internal", lg, detail=detail), markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
