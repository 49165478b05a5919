"""The clerk's web page for the demo: see accepted cases, decide them, issue results to a locker,
and answer residents' staff calls (呼叫工作人员).

Server-rendered HTML behind the same HTTP Basic login as the clerk API. The one piece of
script keeps the open staff calls on ``/clerk`` live: it asks ``/api/v1/clerk/staff-calls``
every 3 seconds and redraws that table (without script, the page reloads itself every 10 s).
Forms carry a token (the same in every worker) so that another site cannot post decisions or mark calls
handled through the clerk's browser. Lists show applicants masked; a case's own page shows
them in full, because deciding a case needs them. A case made by a grid worker (代办) shows
"代办：<name>（网格员 <worker_id>）" on the list and on its page.

For following and collecting (issue 12) a case's page also starts the review (审查中), asks for
补正 (every missing material at once) and takes it back, issues a result into a free door chosen
from a list, and re-issues a waiting one after the locker was checked; the terminal table flags
doors loaded without a registered result and registered results reported missing; staff calls
show a terminal's locker alerts; ``/clerk/ratings`` shows the ratings per item and per terminal.
"""
from __future__ import annotations

import base64
import hashlib
import html
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kiosk.backend import models as m
from refbackend.fields import ascii_int
from refbackend.store import CHINA, DEFAULT_REMEDIES, ApiError, ReferenceStore

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT_ROUTE = "/clerk-static/fonts"

# The bundled font, served with the page: Chinese renders on a computer without CJK fonts.
_FONT_FACE = """
@font-face{font-family:"KioskSans";font-weight:400;font-display:block;src:url("%(route)s/NotoSansSC-Regular.otf") format("opentype")}
@font-face{font-family:"KioskSans";font-weight:700;font-display:block;src:url("%(route)s/NotoSansSC-Bold.otf") format("opentype")}
""" % {"route": FONT_ROUTE}

_STYLE = """
body{font-family:"KioskSans","Noto Sans SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f6f8;color:#1b1f23}
header{background:#0b5cad;color:#fff;padding:12px 24px;font-size:20px}
main{padding:16px 24px;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:6px 8px;text-align:left;font-size:14px;vertical-align:top}
th{background:#eef2f6}
a{color:#0b5cad}
.tabs a{margin-right:12px}
.state-accepted{color:#9a6700}.state-approved{color:#1a7f37}.state-rejected{color:#cf222e}
.state-ready_for_pickup{color:#0b5cad}.state-closed{color:#57606a}
section{background:#fff;border:1px solid #d0d7de;padding:12px 16px;margin:12px 0}
.error{background:#ffebe9;border:1px solid #cf222e;padding:8px 12px;margin:12px 0}
.notice{background:#dafbe1;border:1px solid #1a7f37;padding:8px 12px;margin:12px 0}
textarea{width:100%;min-height:70px}
img.page{max-width:220px;border:1px solid #d0d7de;margin:4px}
button{font-size:15px;padding:6px 16px;margin-top:6px}
input,textarea,select,button{font-family:inherit}
.code{font-size:28px;letter-spacing:4px;font-weight:bold}
#staff-calls-section{border:2px solid #cf222e}
#staff-calls-section.quiet{border:1px solid #d0d7de}
.muted{color:#57606a;font-size:13px}
figure.page{display:inline-block;margin:4px}
.material{display:inline-block;vertical-align:top;margin:6px 12px 6px 0;max-width:460px}
.how{display:inline-block;background:#eef2f6;border-radius:4px;padding:1px 6px;font-size:13px}
img.signature{max-width:460px;border:1px solid #d0d7de}
fieldset{border:1px solid #d0d7de;margin:8px 0;padding:8px 12px}
"""

POLL_SECONDS = 3

# Redraws the open staff calls from the clerk API; text goes in with textContent only.
_STAFF_CALLS_SCRIPT = """
(function () {
  var csrf = %(csrf)s, every = %(every)d * 1000, alerts = %(alerts)s;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function beijing(iso) {
    var d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" +
      pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }
  function cell(row, text) {
    var td = document.createElement("td"); td.textContent = text; row.appendChild(td); return td;
  }
  function draw(calls) {
    var body = document.getElementById("staff-calls-body");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    if (!calls.length) { cell(body.insertRow(), "暂无呼叫").colSpan = 4; }
    calls.forEach(function (call) {
      var row = body.insertRow();
      row.setAttribute("data-call", call.call_id);
      cell(row, beijing(call.called_at));
      cell(row, call.terminal_name + "（" + call.terminal_id + "）");
      cell(row, call.alert ? "⚠ " + (alerts[call.alert] || call.alert) +
           (call.door ? "（" + call.door + "号柜门）" : "") + " · " + call.screen : call.screen);
      var form = document.createElement("form");
      form.method = "post";
      form.action = "/clerk/staff-calls/" + encodeURIComponent(call.call_id) + "/handled";
      var token = document.createElement("input");
      token.type = "hidden"; token.name = "csrf"; token.value = csrf;
      var button = document.createElement("button");
      button.type = "submit"; button.textContent = "已处理";
      form.appendChild(token); form.appendChild(button);
      cell(row, "").appendChild(form);
    });
    document.getElementById("staff-calls-count").textContent = calls.length ? "（" + calls.length + "）" : "";
    document.getElementById("staff-calls-section").className = calls.length ? "" : "quiet";
    document.title = (calls.length ? "【" + calls.length + " 个呼叫】" : "") + "办件列表";
  }
  function poll() {
    // location.origin: a page opened as http://clerk:…@host/clerk must not fetch with the password in the URL
    fetch(location.origin + "/api/v1/clerk/staff-calls?state=open", {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(data.calls); } })
      .catch(function () {});
  }
  setInterval(poll, every);
})();
"""


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""))


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_csp(style: str, scripts: tuple[str, ...] = ()) -> str:
    """The page's Content-Security-Policy: its own inline style and scripts (by hash), fonts,
    images and requests from the same origin, forms posted back to it, never framed."""
    script_src = " ".join(_csp_hash(script) for script in scripts) or "'none'"
    return (f"default-src 'none'; script-src {script_src}; style-src {_csp_hash(style)}; img-src 'self'; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _page_html(title: str, body: str, status: int = 200, head: str = "", fonts: bool = True,
               scripts: tuple[str, ...] = ()) -> HTMLResponse:
    """A whole page; ``scripts`` are the inline scripts ``body`` holds (allowed by hash, nothing else)."""
    style = (_FONT_FACE if fonts else "") + _STYLE
    return HTMLResponse(
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{_e(title)}</title>{head}"
        f"<style>{style}</style></head><body><header>河易办 · 综合受理后台（参考后端）</header>"
        f"<main>{body}</main></body></html>", status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
                 "Referrer-Policy": "no-referrer", "Content-Security-Policy": page_csp(style, scripts)})


def install_clerk_pages(app: FastAPI, store: ReferenceStore, clerk: Callable[..., str], csrf_token: str,
                        font_dir: Path | None = FONT_DIR) -> None:
    """``font_dir``: where the bundled fonts are served from (None: the pages rely on the
    computer's own fonts)."""
    Clerk = Depends(clerk)
    fonts = font_dir is not None and (Path(font_dir) / "NotoSansSC-Regular.otf").is_file()

    def _page(title: str, body: str, status: int = 200, head: str = "", scripts: tuple[str, ...] = ()) -> HTMLResponse:
        return _page_html(title, body, status, head, fonts, scripts)

    if fonts:
        @app.get(FONT_ROUTE + "/{name}", include_in_schema=False)
        def clerk_font(name: str) -> Response:
            if name not in ("NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf"):
                return Response(status_code=404)
            # the font is public (SIL OFL): no login, cached for a day
            return FileResponse(Path(font_dir) / name, media_type="font/otf",
                                headers={"Cache-Control": "public, max-age=86400"})

    async def form_of(request: Request) -> dict[str, list[str]]:
        raw = (await request.body()).decode("utf-8", errors="replace")
        fields = parse_qs(raw, keep_blank_values=True)
        if not hmac.compare_digest(fields.get("csrf", [""])[0], csrf_token):
            raise ApiError(403, "bad_form_token", "the form is stale; reload the page")
        return fields

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("/clerk", status_code=307)

    @app.get("/clerk", include_in_schema=False)
    def clerk_home(state: str = "", _c: str = Clerk) -> HTMLResponse:
        wanted = state if state in m.CASE_STATE_TEXT else None
        cases = store.clerk_cases(wanted).cases
        tabs = " ".join(
            f"<a href='/clerk?state={s}'>{'<b>' if s == wanted else ''}{_e(t)}{'</b>' if s == wanted else ''}</a>"
            for s, t in m.CASE_STATE_TEXT.items()) + " <a href='/clerk/ratings'>好差评</a>"
        rows = "".join(
            f"<tr><td><a href='/clerk/cases/{quote(c.acceptance_number)}'>{_e(c.acceptance_number)}</a></td>"
            f"<td>{_e(c.item_name)}</td><td>{_e(c.applicant_masked)}</td><td>{_e(agent_text(c.agent))}</td>"
            f"<td>{_e(c.accepted_at.strftime('%Y-%m-%d %H:%M'))}</td><td>{_e(c.promised_date or '即办')}</td>"
            f"<td>{c.pages}</td><td class='state-{c.state}'>{_e(c.state_text)}</td></tr>" for c in cases)
        terminals = "".join(
            f"<tr><td>{_e(t.terminal_id)}</td><td>{_e(t.name)}</td>"
            f"{heartbeat_cell(t.last_heartbeat_at, store.now())}"
            f"<td>{_e(_devices(t.last_heartbeat))}</td>"
            f"<td>{_e(t.last_heartbeat.outbox_pending if t.last_heartbeat else '')}</td>"
            f"<td>{_e(', '.join(map(str, t.occupied_doors)) or '无')}</td>{door_flag_cells(t)}</tr>"
            for t in store.terminals())
        calls = store.staff_calls().calls
        call_rows = "".join(
            f"<tr data-call='{_e(call.call_id)}'><td>{_e(_beijing(call.called_at))}</td>"
            f"<td>{_e(call.terminal_name)}（{_e(call.terminal_id)}）</td><td>{_e(call_text(call))}</td>"
            f"<td><form method='post' action='/clerk/staff-calls/{quote(call.call_id)}/handled'>"
            f"<input type='hidden' name='csrf' value='{_e(csrf_token)}'><button type='submit'>已处理</button>"
            "</form></td></tr>" for call in calls)
        script = _STAFF_CALLS_SCRIPT % {"csrf": json.dumps(csrf_token), "every": POLL_SECONDS,
                                        "alerts": json.dumps(m.STAFF_ALERT_TEXT, ensure_ascii=False)}
        body = (f"<section id='staff-calls-section' class='{'' if calls else 'quiet'}'><h2>呼叫工作人员"
                f"<span id='staff-calls-count'>{f'（{len(calls)}）' if calls else ''}</span></h2>"
                "<table><thead><tr><th>呼叫时间</th><th>终端</th><th>居民所在页面</th><th></th></tr></thead>"
                f"<tbody id='staff-calls-body'>{call_rows or '<tr><td colspan=4>暂无呼叫</td></tr>'}</tbody></table>"
                f"<p class='muted'>本列表每 {POLL_SECONDS} 秒自动更新，无需刷新页面。</p></section>"
                f"<script>{script}</script>"
                f"<h2>办件</h2><p class='tabs'><a href='/clerk'>{'<b>' if not wanted else ''}全部"
                f"{'</b>' if not wanted else ''}</a> {tabs}</p>"
                "<table><tr><th>受理编号</th><th>事项</th><th>申请人</th><th>代办</th><th>受理时间</th>"
                f"<th>承诺办结</th><th>材料页数</th><th>状态</th></tr>{rows or '<tr><td colspan=8>暂无办件</td></tr>'}"
                "</table><h2>自助终端</h2><table><tr><th>编号</th><th>名称</th><th>最近心跳</th><th>设备</th>"
                "<th>待发送</th><th>有件柜门</th><th>需技术人员核查的柜门</th></tr>"
                f"{terminals or '<tr><td colspan=7>暂无终端</td></tr>'}</table>"
                "<p><a href='/clerk/ratings'>好差评统计 →</a></p>"
                + _audit_section(store))
        title = (f"【{len(calls)} 个呼叫】" if calls else "") + "办件列表"
        return _page(title, body, head="<noscript><meta http-equiv='refresh' content='10'></noscript>",
                     scripts=(script,))

    def case_page(number: str, message: str = "", error: str = "", status: int = 200) -> HTMLResponse:
        detail = store.clerk_case_detail(number)
        case: m.CaseStatus = detail["case"]
        person: m.Person = detail["applicant"]
        agent: m.GridWorker | None = detail["agent"]
        parts = [f"<p><a href='/clerk'>← 办件列表</a></p><h2>{_e(case.item_name)}</h2>"]
        if message:
            parts.append(f"<div class='notice'>{message}</div>")
        if error:
            parts.append(f"<div class='error'>{_e(error)}</div>")
        parts.append(
            "<section><table>"
            f"<tr><th>受理编号</th><td>{_e(case.acceptance_number)}</td><th>状态</th>"
            f"<td class='state-{case.state}'>{_e(case.state_text)}</td></tr>"
            f"<tr><th>事项编码</th><td>{_e(case.item_code)}</td><th>办件类型</th><td>{_e(case.kind)}</td></tr>"
            f"<tr><th>受理时间</th><td>{_e(case.accepted_at.strftime('%Y-%m-%d %H:%M'))}</td><th>承诺办结</th>"
            f"<td>{_e(case.promised_date or '当场办结')}</td></tr>"
            f"<tr><th>申请人</th><td>{_e(person.name)}</td><th>证件号码</th><td>{_e(person.id_number)}</td></tr>"
            f"<tr><th>电话</th><td>{_e(person.phone)}</td><th>地址</th><td>{_e(person.address)}</td></tr>"
            f"<tr><th>代办</th><td colspan=3>{_e(agent_text(agent) or '本人申请')}</td></tr>"
            "</table></section>")
        try:
            item = store.item(case.item_code)
        except ApiError:
            item = None
        parts.append(application_sections(number, item, detail))
        events = "".join(f"<tr><td>{_e(e.at.strftime('%Y-%m-%d %H:%M'))}</td><td>{_e(e.title)}</td>"
                         f"<td>{_e(e.detail)}</td></tr>" for e in case.timeline)
        parts.append(f"<section><h3>办理过程</h3><table>{events}</table></section>")
        token = f"<input type='hidden' name='csrf' value='{_e(csrf_token)}'>"
        action = f"/clerk/cases/{quote(number)}"
        parts.extend(followup_sections(store, case, action, token))
        if case.state in ("accepted", "reviewing"):
            remedies = "".join(
                f"<label><input type='checkbox' name='remedy' value='{i}' checked> {_e(r.kind)}：{_e(r.time_limit)}"
                f"向{_e(r.authority)}提出</label><br>" for i, r in enumerate(DEFAULT_REMEDIES))
            parts.append(
                f"<section><h3>审核决定</h3><form method='post' action='{action}/decide'>{token}"
                "<p><label><input type='radio' name='action' value='approve' checked> 准予办理</label> "
                "<label><input type='radio' name='action' value='reject'> 不予批准</label></p>"
                f"<fieldset><legend>准予办理</legend>办理结果：<input name='result_name' "
                f"value='{_e(_item_result(store, case.item_code))}' size=40></fieldset>"
                "<fieldset><legend>不予批准</legend>理由（每行一条）：<textarea name='reasons'></textarea>"
                f"<p>告知的行政救济途径：<br>{remedies}</p></fieldset>"
                "<p>备注：<input name='note' size=60></p>"
                "<button type='submit'>提交决定</button></form></section>")
        elif case.state == "approved":
            parts.append(issue_form(store, action, token, "issue", "出件到自助终端柜门", "放入柜门并生成取件码"))
        if case.decision and not case.decision.approved:
            told = "".join(f"<li>{_e(r.kind)}：{_e(r.time_limit)}向{_e(r.authority)}提出</li>"
                           for r in case.decision.remedies)
            parts.append(f"<section><h3>不予批准</h3><p>理由：{_e('；'.join(case.decision.reasons))}</p>"
                         f"<p>已告知的救济途径：</p><ul>{told}</ul></section>")
        if detail["pickup"]:
            p = detail["pickup"]
            taken = f"已于 {_e(p['picked_up_at'])} 取件" if p["picked_up_at"] else "待取件"
            parts.append(f"<section><h3>取件</h3><p>终端 {_e(p['terminal_id'])} · {_e(p['door'])} 号柜门 · {taken}</p>"
                         f"<p>取件码（真实部署中以短信发给申请人）：<span class='code'>{_e(p['pickup_code'])}</span>"
                         "</p></section>")
        return _page(f"办件 {number}", "".join(parts), status)

    @app.get("/clerk/cases/{number}", include_in_schema=False)
    def clerk_case(number: str, _c: str = Clerk) -> HTMLResponse:
        return case_page(number)

    @app.post("/clerk/cases/{number}/decide", include_in_schema=False)
    async def clerk_decide(number: str, request: Request, _c: str = Clerk) -> Response:
        fields = await form_of(request)
        action = fields.get("action", ["approve"])[0]
        approve = action == "approve"
        chosen = {n for n in (ascii_int(v, 0, len(DEFAULT_REMEDIES) - 1) for v in fields.get("remedy", []))
                  if n is not None}
        remedies = [r for i, r in enumerate(DEFAULT_REMEDIES) if i in chosen]
        reasons = [line.strip() for line in fields.get("reasons", [""])[0].splitlines() if line.strip()]
        try:
            decision = m.ClerkDecision(approve=approve, result_name=fields.get("result_name", [""])[0][:200],
                                       reasons=reasons if action == "reject" else [],
                                       remedies=remedies if action == "reject" else None,
                                       note=fields.get("note", [""])[0][:2000])
            if action == "reject" and not remedies:
                return case_page(number, error="不予批准时须告知至少一种救济途径（行政复议或行政诉讼）", status=422)
            store.decide(number, decision)
        except ValidationError:
            return case_page(number, error="不予批准须写明至少一条理由", status=422)
        except ApiError as exc:
            return case_page(number, error=exc.message, status=exc.status)
        return RedirectResponse(f"/clerk/cases/{quote(number)}", status_code=303)

    @app.post("/clerk/cases/{number}/issue", include_in_schema=False)
    async def clerk_issue(number: str, request: Request, _c: str = Clerk) -> Response:
        fields = await form_of(request)
        try:
            issued = store.issue(number, _issue_of(fields))
        except ValidationError:
            return case_page(number, error="请选择终端并填写 1 到 999 之间的柜门号", status=422)
        except ApiError as exc:
            return case_page(number, error=exc.message, status=exc.status)
        return case_page(number, message=f"已放入 {_e(issued.terminal_id)} 的 {issued.door} 号柜门，取件码 "
                                         f"<span class='code'>{_e(issued.pickup_code)}</span>")

    @app.post("/clerk/staff-calls/{call_id}/handled", include_in_schema=False)
    async def clerk_call_handled(call_id: str, request: Request, _c: str = Clerk) -> Response:
        await form_of(request)
        try:
            store.handle_staff_call(call_id)
        except ApiError as exc:
            return _page("呼叫工作人员", f"<p><a href='/clerk'>← 办件列表</a></p><div class='error'>{_e(exc.message)}"
                                   "</div>", exc.status)
        return RedirectResponse("/clerk", status_code=303)

    # -- 审查中, 补正, re-issue, ratings (issue 12) ----------------------------------------------
    @app.post("/clerk/cases/{number}/review", include_in_schema=False)
    async def clerk_review(number: str, request: Request, _c: str = Clerk) -> Response:
        await form_of(request)
        try:
            store.review(number)
        except ApiError as exc:
            return case_page(number, error=exc.message, status=exc.status)
        return RedirectResponse(f"/clerk/cases/{quote(number)}", status_code=303)

    @app.post("/clerk/cases/{number}/supplement", include_in_schema=False)
    async def clerk_supplement(number: str, request: Request, _c: str = Clerk) -> Response:
        fields = await form_of(request)
        items = [line.strip() for line in fields.get("items", [""])[0].splitlines() if line.strip()]
        days = fields.get("deadline_days", [""])[0]
        try:
            request_model = m.ClerkSupplement(items=items, note=fields.get("note", [""])[0][:2000],
                                              deadline_days=ascii_int(days, 0, 10_000))
            store.request_supplement(number, request_model)
        except ValidationError:
            return case_page(number, error="请逐行写明需要补正的全部材料（一次性告知），期限为 1–90 个工作日", status=422)
        except ApiError as exc:
            return case_page(number, error=exc.message, status=exc.status)
        return RedirectResponse(f"/clerk/cases/{quote(number)}", status_code=303)

    @app.post("/clerk/cases/{number}/reissue", include_in_schema=False)
    async def clerk_reissue(number: str, request: Request, _c: str = Clerk) -> Response:
        fields = await form_of(request)
        try:
            issued = store.reissue(number, _issue_of(fields))
        except ValidationError:
            return case_page(number, error="请选择终端并填写 1 到 999 之间的柜门号", status=422)
        except ApiError as exc:
            return case_page(number, error=exc.message, status=exc.status)
        return case_page(number, message=f"已重新放入 {_e(issued.terminal_id)} 的 {issued.door} 号柜门，新取件码 "
                                         f"<span class='code'>{_e(issued.pickup_code)}</span>（原取件码作废）")

    @app.get("/clerk/ratings", include_in_schema=False)
    def clerk_ratings_page(terminal: str = "", item: str = "", _c: str = Clerk) -> HTMLResponse:
        return _page("好差评", ratings_body(store.clerk_ratings(terminal or None, item or None), terminal, item))

    @app.get("/clerk/cases/{number}/pages/{material_index}/{page_no}", include_in_schema=False)
    def clerk_page_image(number: str, material_index: int, page_no: int, _c: str = Clerk) -> Response:
        content_type, data = store.page_data(number, material_index, page_no)
        return Response(data, media_type=content_type, headers={"Cache-Control": "no-store"})


# -- issue 11: what a kiosk application carries, on the case page ---------------------------

_HOW = {"pages": "拍照", "id_card": "已读取身份证核验", "e_licence": "已调取电子证照", "commitment": "告知承诺（已签名）"}
_DELIVERY = {"window": "窗口领取", "post": "免费邮寄", "locker": "自助终端柜取件"}


def application_sections(number: str, item: m.ServiceItem | None, detail: dict[str, Any]) -> str:
    """The form by its labels, the materials (pages, how each was provided, the signed
    commitment), the consent record and the delivery choice."""
    spec = item.application if item is not None else None
    labels = {f.key: f.label for f in spec.fields} if spec else {}
    out = []
    form = detail["form"]
    if form:
        rows = "".join(f"<tr><th>{_e(labels.get(k, k))}</th><td>{_e(v)}</td></tr>" for k, v in form.items())
        out.append(f"<section><h3>申请表</h3><table>{rows}</table></section>")
    names = [x.name for x in item.materials] if item is not None else []
    provisions = {p.index: p for p in detail.get("provisions", [])}
    pages_by_material: dict[int, list[dict]] = {}
    for page in detail["pages"]:
        pages_by_material.setdefault(page["material_index"], []).append(page)
    blocks = []
    for index in sorted(set(pages_by_material) | set(provisions)):
        name = names[index] if index < len(names) else f"材料{index + 1}"
        provision = provisions.get(index)
        how = _HOW[provision.how if provision else "pages"]
        extra = ""
        if provision is not None and provision.licence_id:
            licence = detail.get("licences", {}).get(provision.licence_id)
            extra = (f"：{_e(licence.name)}，{_e(licence.issuer)}，{_e(licence.issued_on)}，编号 "
                     f"{_e(licence.number_masked)}" if licence else f"：{_e(provision.licence_id)}")
        figures = []
        for page in pages_by_material.get(index, []):
            url = f"/clerk/cases/{quote(number)}/pages/{page['material_index']}/{page['page_no']}"
            label = _e(f"{name} 第{page['page_no']}页")
            css = "signature" if provision is not None and provision.how == "commitment" else "page"
            if page["content_type"] == "image/jpeg":
                figures.append(f"<figure class='page'><a href='{url}' target='_blank'>"
                               f"<img class='{css}' src='{url}' alt='{label}'></a><figcaption>{label}</figcaption>"
                               "</figure>")
            else:
                figures.append(f"<a href='{url}' target='_blank'>{label}（PDF）</a>")
        blocks.append(f"<div class='material'><b>{index + 1}. {_e(name)}</b> <span class='how'>{how}</span>{extra}"
                      f"<br>{''.join(figures)}</div>")
    out.append(f"<section><h3>材料（{len(detail['pages'])} 页）</h3>{''.join(blocks) or '无'}</section>")
    consent = detail.get("consent")
    if consent is not None:
        sensitive = ("已单独同意处理敏感个人信息" if consent.sensitive else "") if consent.sensitive is not None \
            else "未采集敏感个人信息图片"
        out.append("<section><h3>同意记录</h3><table>"
                   f"<tr><th>同意时间</th><td>{_e(consent.agreed_at.astimezone(CHINA).strftime('%Y-%m-%d %H:%M:%S'))}"
                   "</td></tr>"
                   f"<tr><th>个人信息处理</th><td>{'已同意' if consent.terms else '未同意'}</td></tr>"
                   f"<tr><th>敏感个人信息</th><td>{_e(sensitive)}</td></tr>"
                   f"<tr><th>告知内容</th><td>{_e(consent.text)}</td></tr></table></section>")
    delivery = detail.get("delivery")
    if delivery is not None:
        where = {"window": delivery.centre, "post": f"{delivery.address}（电话 {delivery.phone}）",
                 "locker": f"自助终端 {delivery.terminal_id}"}[delivery.method]
        out.append(f"<section><h3>领取方式</h3><p>{_DELIVERY[delivery.method]}：{_e(where)}</p></section>")
    return "".join(out)


# -- pieces of the pages for following, collecting and rating (issue 12) -----------------------

def _issue_of(fields: dict[str, list[str]]) -> m.ClerkIssue:
    """The door chosen on an issue form: ``slot`` = "TERMINAL|DOOR" from the list of free doors, or
    ``terminal_id`` and ``door`` typed."""
    terminal, _, door = fields.get("slot", [""])[0].partition("|")
    if not terminal:
        terminal, door = fields.get("terminal_id", [""])[0], fields.get("door", [""])[0]
    return m.ClerkIssue(terminal_id=terminal, door=ascii_int(door, 0, 10_000) or 0)


def call_text(call: m.StaffCall) -> str:
    """The staff call's screen, or what the terminal's alert is about: ⚠ 柜门未关闭（3号柜门）· pickup.open."""
    if not call.alert:
        return call.screen
    door = f"（{call.door}号柜门）" if call.door else ""
    return f"⚠ {m.STAFF_ALERT_TEXT.get(call.alert, call.alert)}{door} · {call.screen}"


def door_flag_cells(terminal: m.TerminalInfo) -> str:
    """The doors a technician should look at, from the terminal's last locker report."""
    flags = []
    if terminal.loaded_unregistered:
        flags.append(f"有物品但未登记：{', '.join(map(str, terminal.loaded_unregistered))}")
    if terminal.registered_empty:
        flags.append(f"已登记但柜内为空：{', '.join(map(str, terminal.registered_empty))}")
    report = terminal.last_heartbeat.locker if terminal.last_heartbeat else None
    if report is not None and report.open:
        flags.append(f"开着：{', '.join(map(str, report.open))}")
    if report is None:
        flags.append("终端未报告柜门情况")
    elif not report.sensors:
        flags.append("柜门无物品传感器，无法核对")
    text = "<br>".join(_e(flag) for flag in flags) or "无"
    return f"<td class='{'state-rejected' if terminal.loaded_unregistered or terminal.registered_empty else ''}'>" \
           f"{text}</td>"


def _door_options(store: ReferenceStore) -> str:
    options = []
    for t in store.terminals():
        for door in t.free_doors:
            options.append(f"<option value='{_e(t.terminal_id)}|{door}'>{_e(t.terminal_id)} {_e(t.name)} · "
                           f"{door} 号柜门（空闲）</option>")
        for door in t.loaded_unregistered:
            options.append(f"<option value='{_e(t.terminal_id)}|{door}'>{_e(t.terminal_id)} {_e(t.name)} · "
                           f"{door} 号柜门（已放入物品，未登记）</option>")
    return "".join(options)


def issue_form(store: ReferenceStore, action: str, token: str, verb: str, title: str, button: str,
               note: str = "") -> str:
    """Choose a free door of a terminal; the terminal learns of the result at its next heartbeat."""
    options = _door_options(store)
    if not options:
        return f"<section><h3>{_e(title)}</h3><p>没有空闲的柜门。</p></section>"
    return (f"<section><h3>{_e(title)}</h3>{note}<form method='post' action='{action}/{verb}'>{token}"
            f"<p>终端与柜门：<select name='slot'>{options}</select></p>"
            "<p class='muted'>终端在下一次心跳时得知（约 1 分钟内）；居民刷身份证或输入取件码即可取件。</p>"
            f"<button type='submit'>{_e(button)}</button></form></section>")


def followup_sections(store: ReferenceStore, case: m.CaseStatus, action: str, token: str) -> list[str]:
    """审查中 / 补正 controls and what the case is waiting for."""
    parts = []
    if case.state == "accepted":
        parts.append(f"<section><h3>开始审查</h3><form method='post' action='{action}/review'>{token}"
                     "<button type='submit'>开始审查（状态改为审查中）</button></form></section>")
    if case.state in ("accepted", "reviewing"):
        parts.append(
            f"<section><h3>要求补正（一次性告知）</h3><form method='post' action='{action}/supplement'>{token}"
            "<p>需要补正的全部材料（每行一条）：<textarea name='items'></textarea></p>"
            "<p>补正方式：<input name='note' size=60 value='请携带原件到便民服务中心综合受理窗口补正'></p>"
            "<p>补正期限：<input name='deadline_days' type='number' min='1' max='90' value='5'> 个工作日</p>"
            "<button type='submit'>告知申请人补正</button></form></section>")
    if case.state == "supplement" and case.supplement is not None:
        items = "".join(f"<li>{_e(item)}</li>" for item in case.supplement.items)
        parts.append(f"<section><h3>待补正</h3><ul>{items}</ul><p>{_e(case.supplement.note)}</p>"
                     f"<p>期限：{_e(case.supplement.deadline or '未定')}</p>"
                     f"<form method='post' action='{action}/review'>{token}"
                     "<button type='submit'>补正材料已收到，继续审查</button></form></section>")
    if case.state == "ready_for_pickup":
        parts.append(issue_form(store, action, token, "reissue", "重新出件（核查柜门后）", "重新放入柜门并生成新取件码",
                                "<p class='muted'>居民报告柜内没有、柜门打不开或柜门未开时，请先到终端核查。重新出件后"
                                "原取件码作废，终端可再为该件开一次柜门。</p>"))
    return parts


def ratings_body(ratings: m.ClerkRatingList, terminal: str, item: str) -> str:
    """好差评: counts per item and per terminal, then every rating."""
    def table(title: str, rows: list[m.RatingSummary], link: str) -> str:
        body = "".join(
            f"<tr><td><a href='/clerk/ratings?{link}={quote(r.key)}'>{_e(r.name)}</a></td><td>{r.count}</td>"
            f"<td>{r.average:.2f}</td>" + "".join(f"<td>{r.levels.get(str(level), 0)}</td>" for level in range(5, 0, -1))
            + "</tr>" for r in rows)
        head = "".join(f"<th>{_e(m.RATING_LEVEL_TEXT[level])}</th>" for level in range(5, 0, -1))
        return (f"<h2>{_e(title)}</h2><table><tr><th>名称</th><th>评价数</th><th>平均分</th>{head}</tr>"
                f"{body or '<tr><td colspan=8>暂无评价</td></tr>'}</table>")

    filters = " · ".join(x for x in (f"终端 {_e(terminal)}" if terminal else "", f"事项 {_e(item)}" if item else "") if x)
    rows = "".join(
        f"<tr><td>{_e(r.recorded_at.astimezone(CHINA).strftime('%Y-%m-%d %H:%M'))}</td>"
        f"<td><a href='/clerk/cases/{quote(r.acceptance_number)}'>{_e(r.acceptance_number)}</a></td>"
        f"<td>{_e(r.item_name)}</td><td>{_e(r.terminal_id)}</td><td class='{'state-rejected' if r.level <= 2 else ''}'>"
        f"{r.level} {_e(r.level_text)}</td><td>{_e('、'.join(m.RATING_REASON_TEXT[x] for x in r.reasons))}</td>"
        f"<td>{_e(r.comment)}</td></tr>" for r in ratings.ratings)
    return ("<p><a href='/clerk'>← 办件列表</a>" + (" · <a href='/clerk/ratings'>全部评价</a>" if filters else "")
            + "</p><h1>好差评</h1>" + (f"<p>筛选：{filters}</p>" if filters else "")
            + table("按事项", ratings.by_item, "item") + table("按终端", ratings.by_terminal, "terminal")
            + "<h2>评价明细</h2><table><tr><th>时间</th><th>受理编号</th><th>事项</th><th>终端</th><th>评价</th>"
            f"<th>原因</th><th>意见</th></tr>{rows or '<tr><td colspan=7>暂无评价</td></tr>'}</table>")


def agent_text(agent: m.GridWorker | None) -> str:
    """How a case made on a resident's behalf names the grid worker: 代办：王晓梅（网格员 WG-0001）."""
    return f"代办：{agent.name}（网格员 {agent.worker_id}）" if agent else ""


def _beijing(moment: Any) -> str:
    return moment.astimezone(CHINA).strftime("%m-%d %H:%M:%S")


#: a terminal sends a heartbeat every minute; after three missed ones the clerk's page flags it
SILENT_AFTER_SECONDS = 180


def heartbeat_cell(last: datetime | None, now: datetime) -> str:
    """The last heartbeat's time, flagged when the terminal has gone silent (or never spoke)."""
    if last is None:
        return "<td class='state-rejected'>⚠ 从未联系</td>"
    silent = (now - last).total_seconds()
    shown = _e(last.astimezone(CHINA).strftime('%m-%d %H:%M:%S'))
    if silent <= SILENT_AFTER_SECONDS:
        return f"<td>{shown}</td>"
    minutes = int(silent // 60)
    gone = f"{minutes} 分钟" if minutes < 120 else f"{minutes // 60} 小时"
    return f"<td class='state-rejected' data-silent='1'>⚠ 已失联 {gone}<br>{shown}</td>"


def _devices(beat: m.Heartbeat | None) -> str:
    if beat is None:
        return ""
    return "，".join(f"{d.device}:{d.status}" for d in beat.devices)


def _item_result(store: ReferenceStore, code: str) -> str:
    try:
        return store.item(code).result
    except ApiError:
        return ""


# -- technicians' audit trail (issue 13) ------------------------------------------------------

_AUDIT_WORDS = {"entry_opened": "打开维护入口", "pin_wrong": "维护密码错误", "pin_locked": "维护入口锁定",
                "signed_in": "进入设备诊断", "signed_out": "退出设备诊断", "action": "诊断操作"}


def _audit_section(store: Any, limit: int = 20) -> str:
    """The newest technician events on every terminal (the audit trail of the hidden entry)."""
    events = store.audit_events(limit=limit).events
    rows = "".join(
        f"<tr><td>{_e(_beijing(e.at))}</td><td>{_e(e.terminal_id)}</td><td>{_e(_AUDIT_WORDS.get(e.event, e.event))}"
        f"</td><td>{_e(' '.join(part for part in (e.action, e.device, e.detail) if part))}</td>"
        f"<td>{_e(e.outcome)}</td></tr>" for e in events)
    return ("<h2 id='audit'>技术人员操作记录</h2><table><tr><th>时间</th><th>终端</th><th>事件</th><th>操作</th>"
            f"<th>结果</th></tr>{rows or '<tr><td colspan=5>暂无记录</td></tr>'}</table>")
