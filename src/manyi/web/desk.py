"""The complaint desk on the web: the public complaint form (``/complain``, rate-limited, a
case number and a status link), the agents' queue (``/cases``), a case's page with its
timeline and actions, and the hotline entry form with customer lookup (docs/cases.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from manyi.i18n import translator

LIMIT = 5  # public submissions per visitor ...
WINDOW = 600.0  # ... per ten minutes
FORM_BYTES = 32 * 1024  # a form's text fields


async def _within(request: Request, limit: int) -> bool:
    """Read the body, giving up (False) as soon as it passes ``limit`` bytes: an oversized
    upload is refused without being held in memory."""
    size = request.headers.get("content-length", "")
    if size.isdigit() and int(size) > limit:
        return False
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            return False
        chunks.append(chunk)
    request._body = b"".join(chunks)  # what Starlette's form parser reads  # noqa: SLF001
    return True


async def _files(request: Request, field: str) -> list[tuple[str, bytes]]:
    """The files sent in a multipart form field (none chosen: none)."""
    out = []
    for v in (await request.form()).getlist(field):
        if hasattr(v, "read") and (v.filename or v.size):
            out.append((v.filename or "", await v.read()))
    return out


def router(url: str | None, env: Any) -> APIRouter:
    from manyi.core.cases import CAUSES_COMPANY, CAUSES_CUSTOMER, KINDS, SEVERITIES
    from manyi.core.messages import ManyiError
    from manyi.services import cases
    from manyi.services.dashboard import unit_id
    from manyi.web.staff import Forbidden, NeedLogin, _csrf, _form, _lang

    r = APIRouter()
    from manyi.web.limits import RateLimit

    public = RateLimit(LIMIT, WINDOW)

    def limited(request: Request) -> bool:
        return public.exceeded(request.client.host if request.client else "?")

    def page(name: str, request: Request, status: int = 200, staff: Any = None, **ctx: Any) -> HTMLResponse:
        from urllib.parse import urlencode

        lang = _lang(request, staff)
        html = env.get_template(name).render(
            tr=translator(lang), lang=lang, path=request.url.path, staff=staff, csrf=_csrf(request),
            query=dict(request.query_params), urlencode=urlencode, kinds=KINDS,
            categories=cases.policies(url).categories,
            severities=SEVERITIES, causes=CAUSES_COMPANY + CAUSES_CUSTOMER, **ctx,
        )
        return HTMLResponse(html, status_code=status)

    # --- public --------------------------------------------------------------------------
    @r.get("/complain", response_class=HTMLResponse)
    def complain_form(request: Request) -> HTMLResponse:
        return page("complain.html", request, values={}, errors={})

    @r.post("/complain", response_class=HTMLResponse)
    async def complain(request: Request) -> HTMLResponse:
        if not await _within(request, FORM_BYTES + cases.MAX_ATTACHMENT):
            return page("notice.html", request, 413, kind="too_large")
        form = await _form(request)
        if limited(request):
            return page("notice.html", request, 429, kind="rate_limited")
        files = await _files(request, "attachment")
        case, errors = cases.submit_public(form, _lang(request), url, files=files[:1])
        if case is None:
            return page("complain.html", request, 422, values=form, errors=errors)
        return page("complain_done.html", request, case=case,
                    status_link=f"{request.base_url}complain/status/{case['public_token']}")

    @r.get("/complain/status/{token}", response_class=HTMLResponse)
    def complain_status(token: str, request: Request) -> HTMLResponse:
        found = cases.public_status(token, url)
        if found is None:
            return page("notice.html", request, 404, kind="unknown")
        return page("complain_status.html", request, case=found)

    # --- staff ---------------------------------------------------------------------------
    def need(request: Request) -> Any:
        from manyi.web.staff import current_staff

        staff = current_staff(request, url)
        if staff is None:
            raise NeedLogin()
        if not staff.can("cases"):
            raise Forbidden("cases")
        return staff

    @r.get("/cases", response_class=HTMLResponse)
    def queue(request: Request) -> HTMLResponse:
        staff = need(request)
        mine = request.query_params.get("mine") == "1"
        up = request.query_params.get("escalated") == "1"
        return page("cases.html", request, staff=staff, rows=cases.queue(staff, mine, url, escalated=up), mine=mine,
                    escalated=up,
                    now=datetime.now(UTC))

    @r.get("/cases/figures", response_class=HTMLResponse)
    def figures(request: Request) -> HTMLResponse:
        """The desk's figures by a grouping (``by=unit|category|channel|kind|month``)."""
        from manyi.present.charts import chart

        staff = need(request)
        by = request.query_params.get("by", "category")
        if by not in cases.KPI_BY:
            by = "category"
        res = cases.kpis([by], url=url)
        lang = _lang(request, staff)
        figs = {}
        for part in ("pareto_categories", "pareto_causes", "complaint_rate"):
            fig = chart(res, lang, part)
            figs[part] = fig.to_json().replace("<", "\\u003c") if fig is not None else None
        return page("cases_figures.html", request, staff=staff, res=res, by=by, figs=figs, groupings=cases.KPI_BY)

    @r.get("/cases/new", response_class=HTMLResponse)
    def new_form(request: Request) -> HTMLResponse:
        staff = need(request)
        q = request.query_params.get("q", "")
        return page("case_new.html", request, staff=staff, q=q, found=cases.lookup_customers(q, url), error=None)

    @r.post("/cases/new", response_class=HTMLResponse)
    async def new_case(request: Request) -> Response:
        staff = need(request)
        form = await _form(request)
        try:
            c = cases.open_case(
                {"kind": form.get("kind") or "complaint", "channel": form.get("channel") or "hotline",
                 "category": form.get("category") or None, "severity": form.get("severity") or "medium",
                 "customer": form.get("customer") or None, "description": (form.get("description") or "")[:4000],
                 "contact": {"phone": form.get("phone") or None} if form.get("phone") else None,
                 "unit_id": unit_id(staff.unit, url) if staff.unit else None},  # the agent's own unit
                staff.username, url)
        except ManyiError as exc:
            return page("case_new.html", request, 422, staff=staff, q="", found=[], error=exc.render(_lang(request, staff)))
        return RedirectResponse(f"/cases/{c['number']}", status_code=303)

    @r.get("/cases/{number}", response_class=HTMLResponse)
    def one(number: str, request: Request) -> HTMLResponse:
        staff = need(request)
        try:
            c = cases.case_page(number, staff, url)
        except PermissionError:
            raise Forbidden("unit") from None
        except ManyiError:
            return page("notice_staff.html", request, 404, staff=staff, kind="not_found")
        return page("case.html", request, staff=staff, c=c, error=None)

    # --- improvement actions (CAPA) ---------------------------------------------------------
    def need_actions(request: Request) -> Any:
        from manyi.web.staff import current_staff

        staff = current_staff(request, url)
        if staff is None:
            raise NeedLogin()
        if not staff.can("actions"):
            raise Forbidden("actions")
        return staff

    def actions_page(request: Request, staff: Any, status: int = 200, error: str | None = None,
                     values: dict[str, str] | None = None) -> HTMLResponse:
        from manyi.services import actions
        from manyi.services.dashboard import campaigns_of

        names = [c["campaign"] for c in campaigns_of(url)]
        return page("actions.html", request, status, staff=staff, rows=actions.list_actions(url), error=error,
                    values=values or {}, campaigns=names)

    @r.get("/actions", response_class=HTMLResponse)
    def actions_list(request: Request) -> HTMLResponse:
        return actions_page(request, need_actions(request))

    @r.post("/actions", response_class=HTMLResponse)
    async def actions_add(request: Request) -> Response:
        from manyi.services import actions

        staff = need_actions(request)
        form = await _form(request)
        lang = _lang(request, staff)
        try:
            if form.get("metric") == "dimension":
                metric = {"type": "dimension", "dimension": form.get("dimension", "").strip(),
                          "campaign": form.get("campaign") or None}
            else:
                metric = {"type": "complaints", "category": form.get("category") or None}
            due = datetime.fromisoformat(form["due"]).replace(tzinfo=UTC) if form.get("due") else None
            actions.add_action(form.get("title", ""), metric, kind=form.get("kind") or "corrective",
                               owner=form.get("owner") or staff.username, due=due,
                               cases=[c for c in form.get("cases", "").replace(",", " ").split() if c],
                               description=form.get("description") or None, url=url)
        except (ManyiError, ValueError) as exc:
            msg = exc.render(lang) if isinstance(exc, ManyiError) else str(exc)
            return actions_page(request, staff, 422, msg, form)
        return RedirectResponse("/actions", status_code=303)

    @r.post("/actions/{number}", response_class=HTMLResponse)
    async def actions_step(number: str, request: Request) -> Response:
        from manyi.services import actions

        staff = need_actions(request)
        form = await _form(request)
        try:
            if form.get("step") == "done":
                actions.done(number, url=url)
            else:
                actions.check(number, url=url)
        except ManyiError as exc:
            return actions_page(request, staff, 422, exc.render(_lang(request, staff)))
        return RedirectResponse("/actions", status_code=303)

    @r.post("/cases/{number}/attachments", response_class=HTMLResponse)
    async def attach(number: str, request: Request) -> Response:
        staff = need(request)
        if not await _within(request, FORM_BYTES + cases.MAX_ATTACHMENT):
            return page("notice_staff.html", request, 413, staff=staff, kind="too_large")
        await _form(request)  # the CSRF check
        try:
            for name, data in await _files(request, "file"):
                cases.add_attachment(number, name, data, staff.username, url, staff=staff)
        except PermissionError:
            raise Forbidden("unit") from None
        except ManyiError as exc:
            try:
                c = cases.case_page(number, staff, url)
            except ManyiError:
                return page("notice_staff.html", request, 404, staff=staff, kind="not_found")
            return page("case.html", request, 422, staff=staff, c=c, error=exc.render(_lang(request, staff)))
        return RedirectResponse(f"/cases/{number}", status_code=303)

    @r.get("/cases/{number}/attachments/{aid}")
    def download(number: str, aid: int, request: Request) -> Response:
        from urllib.parse import quote

        staff = need(request)
        try:
            name, kind, data = cases.attachment(number, aid, staff, url)
        except PermissionError:
            raise Forbidden("unit") from None
        except ManyiError:
            return page("notice_staff.html", request, 404, staff=staff, kind="not_found")
        return Response(data, media_type=kind, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Content-Security-Policy": "default-src 'none'; sandbox"})

    @r.post("/cases/{number}", response_class=HTMLResponse)
    async def act(number: str, request: Request) -> Response:
        staff = need(request)
        form = await _form(request)
        try:
            cases.case_page(number, staff, url)  # the unit check
        except PermissionError:
            raise Forbidden("unit") from None
        except ManyiError:
            return page("notice_staff.html", request, 404, staff=staff, kind="not_found")
        sat = {"yes": True, "no": False}.get(form.get("satisfied", ""))
        try:
            version = int(form.get("version", "0")) or None
            cases.act(number, form.get("action", ""), staff.username, version, url,
                      note=form.get("note") or None, remedy=form.get("remedy") or None,
                      root_cause=form.get("root_cause") or None, satisfied=sat, to=form.get("to") or None)
        except (ManyiError, ValueError) as exc:
            lang = _lang(request, staff)
            msg = exc.render(lang) if isinstance(exc, ManyiError) else str(exc)
            c = cases.case_page(number, staff, url)
            return page("case.html", request, 409 if "conflict" in repr(exc) or "changed" in msg else 422,
                        staff=staff, c=c, error=msg)
        return RedirectResponse(f"/cases/{number}", status_code=303)

    return r
