"""Survey pages: ``GET /s/<token>`` shows the form, ``POST /s/<token>`` checks and stores the
answers, then thanks. Unknown links answer 404, closed campaigns 410, a used link a polite
"already answered" page; no stack trace ever reaches a browser."""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from manyi.i18n import LANGS, translator

MAX_BODY = 64 * 1024
WALK_IN_LIMIT = 5  # answers per visitor and walk-in link ...
WALK_IN_WINDOW = 600.0  # ... per ten minutes


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    header = request.headers.get("accept-language", "").lower()
    for part in header.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGS:
            return code
    return "zh"


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (``manyi.web.staff``)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.datastructures import MutableHeaders

        from manyi.web.staff import security_headers

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                security_headers(scope["path"], MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, sending)


def _staff(app: FastAPI, url: str | None, env: Environment) -> None:
    """The staff workspace: signed session cookies, its routes, login redirects and 403s."""
    from urllib.parse import quote

    from fastapi.responses import RedirectResponse
    from starlette.middleware.sessions import SessionMiddleware

    from manyi.services.accounts import session_key
    from manyi.web import staff

    app.router.routes.extend(staff.router(url, env).routes)
    from manyi.web import desk

    app.router.routes.extend(desk.router(url, env).routes)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_key(url),
        session_cookie="manyi_session",
        max_age=staff.SESSION_HOURS * 3600,
        same_site="lax",
        https_only=os.environ.get("MANYI_HTTPS", "") == "1",
    )
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(staff.NeedLogin)
    async def _login(request: Request, exc: Exception):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)

    @app.exception_handler(staff.Forbidden)
    async def _forbidden(request: Request, exc: Exception):
        tr = translator(staff._lang(request))
        html = env.get_template("notice_staff.html").render(
            tr=tr, lang=tr.lang, path=request.url.path, staff=None, kind="forbidden", csrf=""
        )
        return HTMLResponse(html, status_code=403)


class App(FastAPI):
    """FastAPI, with the API's submissions by campaign served before the framework
    (:class:`manyi.web.api.FastSubmit`): the one route that must carry a thousand requests a
    second on two cores."""

    fast: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.fast is not None:
            campaign = self.fast.campaign_of(scope)
            if campaign is not None:
                return await self.fast(scope, receive, send, campaign)
        return await super().__call__(scope, receive, send)


def create_app(url: str | None = None) -> FastAPI:
    """The app over the store at ``url`` (default: ``MANYI_DATABASE_URL`` or the embedded
    SQLite file)."""
    from manyi.services import survey
    from manyi.services.intake import Intake
    from manyi.web.api import FastSubmit

    app = App(title="manyi", docs_url="/docs", openapi_url="/openapi.json")
    intake = Intake(url)  # group commit of submissions with an API key, shared by both paths
    app.fast = FastSubmit(intake)
    app.router.on_startup.append(survey.warm)  # scoring warmed before the first request
    base = resources.files("manyi.web")
    env = Environment(
        loader=FileSystemLoader(str(base / "templates")),
        autoescape=select_autoescape(["html"]),
    )
    app.mount("/static", StaticFiles(directory=str(base / "static")), name="static")
    from manyi.web.api import router

    # routes added one by one (not as an included router): app.routes lists every route
    app.router.routes.extend(router(url, intake).routes)
    _staff(app, url, env)

    def page(name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = _lang(request)
        tr = translator(lang)
        html = env.get_template(name).render(tr=tr, lang=lang, path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=status)

    def state_page(state: str, request: Request) -> HTMLResponse:
        status = {"unknown": 404, "closed": 410, "answered": 200}[state]
        return page("notice.html", request, status, kind=state)

    def form_page(sv: Any, request: Request) -> HTMLResponse:
        if sv.state != "open":
            return state_page(sv.state, request)
        return page("survey.html", request, inst=sv.instrument, values={}, errors={})

    async def answered(
        request: Request, submit: Any, reopen: Any, limit: bool = False
    ) -> HTMLResponse:
        """A POSTed form: size and rate checks, then ``submit(form)``; thanks, a notice, or the
        form again with the messages (``reopen()`` gives the survey back)."""
        body = await request.body()
        if len(body) > MAX_BODY:
            return page("notice.html", request, 413, kind="too_large")
        if limit and limited(request):
            return page("notice.html", request, 429, kind="rate_limited")
        form = await request.form()
        sub = submit({k: str(v) for k, v in form.items()})
        if sub.stored:
            return page("notice.html", request, 200, kind="thanks")
        if sub.state != "invalid":
            return state_page(sub.state, request)
        sv = reopen()
        if sv.state != "open":
            return state_page(sv.state, request)
        return page(
            "survey.html", request, 422, inst=sv.instrument, values=sub.values, errors=sub.errors
        )

    @app.get("/s/{token}", response_class=HTMLResponse)
    def show(token: str, request: Request) -> HTMLResponse:
        return form_page(survey.open_survey(token, url), request)

    @app.post("/s/{token}", response_class=HTMLResponse)
    async def answer(token: str, request: Request) -> HTMLResponse:
        return await answered(
            request,
            lambda form: survey.submit(token, form, url),
            lambda: survey.open_survey(token, url),
        )

    # anonymous walk-in links: the same form, a new response each time, rate-limited per visitor
    from manyi.web.limits import RateLimit

    walk_ins = RateLimit(WALK_IN_LIMIT, WALK_IN_WINDOW)

    def limited(request: Request) -> bool:
        return walk_ins.exceeded((request.client.host if request.client else "?") + request.url.path)

    @app.get("/w/{ptoken}", response_class=HTMLResponse)
    def walk_in(ptoken: str, request: Request) -> HTMLResponse:
        return form_page(survey.open_walk_in(ptoken, url), request)

    @app.post("/w/{ptoken}", response_class=HTMLResponse)
    async def walk_in_answer(ptoken: str, request: Request) -> HTMLResponse:
        return await answered(
            request,
            lambda form: survey.submit_walk_in(ptoken, form, url),
            lambda: survey.open_walk_in(ptoken, url),
            limit=True,
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> PlainTextResponse:
        tr = translator(_lang(request))
        return PlainTextResponse(tr("web.internal"), status_code=500)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        from fastapi.responses import JSONResponse

        errors = [
            {"field": ".".join(str(x) for x in e.get("loc", ())[1:]), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid", "errors": errors}, status_code=422)

    return app
