"""The staff workspace: login, the dashboard, the response browser and export, users and the
audit log (docs/staff.md).

Every page here is for a logged-in account: an anonymous request is sent to ``/login`` (303),
an account without the role or the unit gets 403. Sessions live in a signed, HttpOnly,
SameSite=Lax cookie (the key from :func:`manyi.services.accounts.session_key`); every form
carries the session's CSRF token, checked on every POST. Pages with personal data are never
cached; every response carries the security headers of :func:`security_headers`.
"""

from __future__ import annotations

import secrets
import time
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from manyi.i18n import LANGS, translator

#: Content-Security-Policy: scripts and styles only from this server (plotly.js sets inline
#: styles on its SVG, hence 'unsafe-inline' for styles only), no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PUBLIC = ("/s/", "/w/", "/complain", "/static/", "/assets/", "/login", "/api/", "/docs", "/openapi.json", "/favicon.ico")
SESSION_HOURS = 8


def security_headers(path: str, headers: Any) -> None:
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not path.startswith(("/static/", "/assets/")):
        headers.setdefault("Cache-Control", "no-store")


class NeedLogin(Exception):
    """An anonymous request for a staff page."""


class Forbidden(Exception):
    """A logged-in account without the role or unit for what it asked."""


def _lang(request: Request, staff: Any = None) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        request.session["lang"] = asked
        return asked
    if request.session.get("lang") in LANGS:
        return request.session["lang"]
    if staff is not None and staff.lang in LANGS:
        return staff.lang
    header = request.headers.get("accept-language", "").lower()
    for part in header.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGS:
            return code
    return "zh"


def _csrf(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = request.session["csrf"] = secrets.token_urlsafe(24)
    return tok


async def _form(request: Request) -> dict[str, str]:
    """The POSTed form, after its CSRF token is checked (403 when it is missing or wrong)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    want = request.session.get("csrf")
    if not want or not secrets.compare_digest(form.get("csrf", ""), want):
        raise Forbidden("csrf")
    return form


def current_staff(request: Request, url: str | None) -> Any:
    """The logged-in account of a request, or None (no session, expired, or switched off)."""
    from manyi.services import accounts

    uid = request.session.get("uid")
    if not uid or time.time() - request.session.get("at", 0) > SESSION_HOURS * 3600:
        request.session.pop("uid", None)
        return None
    return accounts.staff_by_id(int(uid), url)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def router(url: str | None, env: Any) -> APIRouter:
    from manyi.core.messages import ManyiError
    from manyi.present.charts import chart
    from manyi.services import accounts, dashboard
    from manyi.services.dashboard import View

    r = APIRouter()

    def current(request: Request) -> Any:
        return current_staff(request, url)

    def need(request: Request, action: str) -> Any:
        staff = current(request)
        if staff is None:
            raise NeedLogin()
        if not staff.can(action):
            raise Forbidden(action)
        return staff

    def page(name: str, request: Request, staff: Any = None, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = _lang(request, staff)
        tr = translator(lang)
        html = env.get_template(name).render(
            tr=tr, lang=lang, path=request.url.path, staff=staff, csrf=_csrf(request),
            query=dict(request.query_params), urlencode=urlencode, **ctx
        )
        return HTMLResponse(html, status_code=status)

    # --- login -------------------------------------------------------------------------
    @r.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return page("login.html", request, error=None, next=request.query_params.get("next", "/dash"))

    @r.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await _form(request)
        staff = accounts.authenticate(form.get("username", ""), form.get("password", ""), _ip(request), url)
        nxt = form.get("next") or "/dash"
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/dash"  # never send a user to another site
        if staff is None:
            return page("login.html", request, status=401, error="staff.login_failed", next=nxt)
        lang = request.session.get("lang")
        request.session.clear()  # a new session on login (no fixation)
        request.session.update(uid=staff.id, at=int(time.time()), csrf=secrets.token_urlsafe(24))
        if lang:
            request.session["lang"] = lang
        return RedirectResponse(nxt, status_code=303)

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        staff = need(request, "dashboard")
        await _form(request)
        accounts.audit(staff.username, "logout", ip=_ip(request), url=url)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # --- dashboard -----------------------------------------------------------------------
    def view_of(request: Request, staff: Any) -> View:
        view = View.from_query(request.query_params)
        if view.unit and staff.scope is not None:
            from manyi.services.dashboard import unit_id

            uid = unit_id(view.unit, url)
            if uid is None or uid not in staff.scope:
                raise Forbidden("unit")
        return view

    figures: dict[str, str | None] = {}  # chart JSON by the content it draws

    def figure_json(result: Any, lang: str, part: str | None = None) -> str | None:
        import hashlib
        import json

        key = hashlib.sha256(
            json.dumps([result.to_dict(), lang, part], sort_keys=True, default=str).encode()
        ).hexdigest()
        if key in figures:
            return figures[key]
        try:
            fig = chart(result, lang, part)
        except Exception:  # noqa: BLE001 - a panel without a chart shows its tables only
            fig = None
        # inside <script type="application/json">: no "<" may close the element early
        out = fig.to_json().replace("<", "\\u003c") if fig is not None else None
        figures[key] = out
        while len(figures) > 256:
            figures.pop(next(iter(figures)))
        return out

    @r.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        need(request, "dashboard")
        return RedirectResponse("/dash", status_code=303)

    @r.get("/dash", response_class=HTMLResponse)
    def dash(request: Request) -> HTMLResponse:
        staff = need(request, "dashboard")
        view = view_of(request, staff)
        lang = _lang(request, staff)
        campaigns = dashboard.campaigns_of(url)
        if not campaigns:
            return page("dash.html", request, staff, card=None, campaigns=[], view=view, figs={}, panels=[])
        try:
            card = dashboard.scorecard(view, staff, url)
        except ManyiError as exc:
            return page("dash.html", request, staff, 404, card=None, campaigns=campaigns, view=view,
                        figs={}, panels=[], error=exc.render(lang))
        res = dashboard.scorecard_result(card, translator(lang))
        figs = {p: figure_json(res, lang, p) for p in ("dimensions", "trend", "units")}
        panels = []
        if request.query_params.get("panels", "1") != "0":
            for name, out in dashboard.panels(view, staff, url):
                if hasattr(out, "as_result"):  # a Result, or a fitted CSI model
                    res = out.as_result()
                    panels.append({"name": name, "fig": figure_json(res, lang),
                                   "warnings": [w.render(lang) for w in res.warnings]})
                else:
                    panels.append({"name": name, "fig": None, "warnings": [out.render(lang)]})
        tree = dashboard.unit_children(card, staff, url)
        return page("dash.html", request, staff, card=card, campaigns=campaigns, view=view, figs=figs,
                    panels=panels, tree=tree)

    # --- responses -----------------------------------------------------------------------
    @r.get("/dash/responses", response_class=HTMLResponse)
    def responses(request: Request) -> HTMLResponse:
        staff = need(request, "responses")
        view = view_of(request, staff)
        try:
            pg = int(request.query_params.get("page", "1"))
        except ValueError:
            pg = 1
        try:
            found = dashboard.browse(view, staff, pg, url=url)
        except ManyiError as exc:
            return page("responses.html", request, staff, 404, found=None, view=view, error=exc.render(_lang(request, staff)))
        return page("responses.html", request, staff, found=found, view=view, error=None)

    @r.get("/dash/responses/{rid}", response_class=HTMLResponse)
    def one(rid: str, request: Request) -> HTMLResponse:
        staff = need(request, "responses")
        if not rid.isdigit():
            return page("notice_staff.html", request, staff, 404, kind="not_found")
        try:
            found = dashboard.response(int(rid), staff, url)
        except PermissionError:
            raise Forbidden("unit") from None
        if found is None:
            return page("notice_staff.html", request, staff, 404, kind="not_found")
        return page("response.html", request, staff, r=found, labels=found["instrument"].labels())

    @r.get("/dash/export")
    def export(request: Request) -> Response:
        staff = need(request, "export")
        view = view_of(request, staff)
        fmt = request.query_params.get("format", "csv")
        lang = _lang(request, staff)
        try:
            data = dashboard.export(view, staff, fmt, lang, _ip(request), url)
        except ManyiError as exc:
            return page("notice_staff.html", request, staff, 422, kind="error", text=exc.render(lang))
        media = "text/csv; charset=utf-8" if fmt == "csv" else (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="manyi-responses.{fmt}"'})

    # --- administration -----------------------------------------------------------------
    @r.get("/admin/users", response_class=HTMLResponse)
    def users(request: Request) -> HTMLResponse:
        staff = need(request, "users")
        return page("users.html", request, staff, users=accounts.list_users(url), error=None,
                    units=dashboard.unit_list(url))

    @r.post("/admin/users", response_class=HTMLResponse)
    async def add_user(request: Request) -> Response:
        staff = need(request, "users")
        form = await _form(request)
        try:
            accounts.create_user(form.get("username", ""), form.get("password", ""), form.get("role", ""),
                                 form.get("unit") or None, form.get("lang", "zh"), by=staff.username, url=url,
                                 email=form.get("email") or None, manager=form.get("manager") == "1")
        except ManyiError as exc:
            return page("users.html", request, staff, 422, users=accounts.list_users(url),
                        error=exc.render(_lang(request, staff)), units=dashboard.unit_list(url))
        return RedirectResponse("/admin/users", status_code=303)

    @r.get("/admin/audit", response_class=HTMLResponse)
    def audit_page(request: Request) -> HTMLResponse:
        staff = need(request, "audit")
        total, events = accounts.audit_events(500, 0, url)
        return page("audit.html", request, staff, total=total, events=events)

    @r.get("/admin/audit.csv")
    def audit_csv(request: Request) -> Response:
        staff = need(request, "audit")
        accounts.audit(staff.username, "audit.export", ip=_ip(request), url=url)
        return Response(("\ufeff" + accounts.audit_csv(url)).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="manyi-audit.csv"'})

    # plotly's own bundled JavaScript, served by the app (no CDN)
    @r.get("/assets/plotly.min.js")
    def plotly_js() -> FileResponse:
        path = resources.files("plotly") / "package_data" / "plotly.min.js"
        return FileResponse(str(path), media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    return r
