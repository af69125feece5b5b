"""The web application: pages (Jinja2, autoescaped), the JSON API, login, CSRF, uploads."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from movescreen.workspace import plots, store
from movescreen.workspace.db import (
    AuthSession,
    Client,
    Finding,
    Job,
    Session,
    User,
    Verdict,
    open_db,
    utcnow,
)
from movescreen.workspace.security import RateLimiter, check_password, new_token, token_hash

HERE = Path(__file__).parent
VERDICTS = ("agree", "disagree", "unsure")
OPEN_PATHS = ("/login", "/static/", "/healthz")
DEFAULT_MAX_UPLOAD = 500 * 1024 * 1024
#: Verdicts per finding returned by the API and shown on the review page (the latest ones; all are
#: kept, and ``GET /api/findings/{id}/history`` returns them all).
HISTORY_SHOWN = 50
#: A login session lasts this long on the server too (not only the cookie's max-age).
SESSION_HOURS = 12


class VerdictIn(BaseModel):
    verdict: Literal["agree", "disagree", "unsure"]
    note: str = Field("", max_length=5000)


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    notes: str = Field("", max_length=20000)


def create_app(db: str | None = None, data_dir: Path | str = "movescreen-workspace", *,
               exposed: bool = False, dask: str | None = None,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD, worker: bool = True) -> FastAPI:
    data = Path(data_dir).resolve()
    for sub in ("outputs", "videos", "work", "tmp"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    engine, maker = open_db(db, data)
    from movescreen.workspace.jobs import Worker, recover

    recover(maker)
    jobs = Worker(maker, data, dask=dask)
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        if worker:
            jobs.start()
        yield
        jobs.stop()

    # FastAPI's /docs and /redoc load Swagger UI / ReDoc from a CDN: off (nothing may come from
    # the network); /api-docs is a local page made from the same OpenAPI description.
    app = FastAPI(title="movescreen workspace", version="1", lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="The JSON API of `movescreen serve` (the pages use it too).")
    app.state.maker, app.state.data, app.state.exposed = maker, data, exposed
    app.state.engine, app.state.jobs = engine, jobs
    limiter = RateLimiter()  # per address and name: 5 failures a minute
    ip_limiter = RateLimiter(limit=20)  # per address, whatever the names tried
    import jinja2

    templates = Jinja2Templates(env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True))
    templates.env.globals["METRICS"] = store.METRICS
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    # ---------------------------------------------------------------- auth and CSRF
    @app.middleware("http")
    async def auth(request: Request, call_next: Any) -> Response:
        t0 = time.perf_counter()
        request.state.user = "local" if not exposed else None
        request.state.csrf = request.cookies.get("ms_csrf") or new_token()
        path = request.url.path
        if exposed:
            tok = request.cookies.get("ms_session")
            if tok:
                with maker() as s:
                    a = s.get(AuthSession, token_hash(tok))
                    if a is not None and utcnow() - a.created_at > dt.timedelta(hours=SESSION_HOURS):
                        a = None  # expired: log in again
                    if a is not None:
                        u = s.get(User, a.user_id)
                        request.state.user = u.name if u else None
                        request.state.csrf = a.csrf
            if request.state.user is None and not path.startswith(OPEN_PATHS):
                if path.startswith("/api/"):
                    return JSONResponse({"detail": "Log in first (no valid session)."}, 401)
                return RedirectResponse("/login", 303)
        response: Response = await call_next(request)
        if "ms_csrf" not in request.cookies:
            response.set_cookie("ms_csrf", request.state.csrf, httponly=True, samesite="strict",
                                secure=exposed)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        # time in the server (queueing for a worker thread included), for the load benchmark
        response.headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - t0):.1f}"
        return response

    def check_csrf(request: Request, token: str | None) -> None:
        import hmac

        token = token or request.headers.get("x-csrf-token") or ""
        if not token or not hmac.compare_digest(token, request.state.csrf):
            raise HTTPException(403, "The form's security token is missing or wrong (CSRF); "
                                     "reload the page and try again.")

    def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx |= {"user": request.state.user, "csrf": request.state.csrf, "exposed": exposed,
                "print": request.query_params.get("print") == "1"}
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def message(request: Request, text: str, status: int = 400, title: str = "Not done") -> HTMLResponse:
        return render(request, "message.html", status, title=title, text=text)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.headers.get("x-csrf-token") is not None:
            return JSONResponse({"detail": exc.detail}, exc.status_code)
        return message(request, str(exc.detail), exc.status_code)

    # ---------------------------------------------------------------- login
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return render(request, "login.html", error=None)

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, name: str = Form(""), password: str = Form(""),
              csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        ip = request.client.host if request.client else "?"
        key = f"{ip}|{name}"
        if limiter.blocked(key) or ip_limiter.blocked(ip):
            return render(request, "login.html", 429,
                          error="Too many failed logins; wait a minute and try again.")
        with maker.begin() as s:
            u = s.scalars(select(User).where(User.name == name)).first()
            if u is None or not check_password(u.password_hash, password):
                limiter.fail(key)
                ip_limiter.fail(ip)
                return render(request, "login.html", 401, error="Wrong name or password.")
            limiter.reset(key)
            tok, csrf = new_token(), new_token()
            s.add(AuthSession(token_hash=token_hash(tok), user_id=u.id, csrf=csrf))
        r = RedirectResponse("/", 303)
        r.set_cookie("ms_session", tok, httponly=True, samesite="strict", secure=exposed,
                     max_age=SESSION_HOURS * 3600)
        return r

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        tok = request.cookies.get("ms_session")
        if tok:
            with maker.begin() as s:
                a = s.get(AuthSession, token_hash(tok))
                if a:
                    s.delete(a)
        r = RedirectResponse("/login" if exposed else "/", 303)
        r.delete_cookie("ms_session")
        return r

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness: `ok` and the database kind (open without login)."""
        with maker() as s:
            s.execute(select(1))
        return {"status": "ok", "database": engine.dialect.name}

    # ---------------------------------------------------------------- helpers
    def get_client(s: Any, cid: int) -> Client:
        c = s.get(Client, cid)
        if c is None:
            raise HTTPException(404, "No such client.")
        return c

    def load_session(s: Any, sid: int) -> Session:
        q = select(Session).where(Session.id == sid).options(
            selectinload(Session.client), selectinload(Session.findings))
        sess = s.scalars(q).first()
        if sess is None:
            raise HTTPException(404, "No such session.")
        return sess

    def verdicts_of(s: Any, fids: list[int]) -> dict[int, dict[str, Any]]:
        """Per finding: the current verdict, the latest HISTORY_SHOWN verdicts (oldest first) and
        how many there are. Bounded work per finding, however long its history grows: one
        indexed query per finding returning plain rows, not ORM objects (loading those was most
        of a review page's time once histories grew)."""
        out: dict[int, dict[str, Any]] = {fid: {"current": None, "recent": [], "count": 0} for fid in fids}
        if not fids:
            return out
        counts = dict(s.execute(select(Verdict.finding_id, func.count(Verdict.id))
                                .where(Verdict.finding_id.in_(fids))
                                .group_by(Verdict.finding_id)).all())
        cols = (Verdict.id, Verdict.finding_id, Verdict.verdict, Verdict.note, Verdict.by, Verdict.at)
        rows: list[Any] = []
        for fid in fids:  # newest first through the finding_id index: HISTORY_SHOWN rows, no more
            if counts.get(fid):
                rows += reversed(s.execute(select(*cols).where(Verdict.finding_id == fid)
                                           .order_by(Verdict.id.desc()).limit(HISTORY_SHOWN)).all())
        for r in rows:  # oldest first within each finding
            out[r.finding_id]["recent"].append(r)
        for fid, h in out.items():
            h["count"] = counts.get(fid, 0)
            h["current"] = h["recent"][-1] if h["recent"] else None
        return out

    def verdict_json(v: Any) -> dict[str, Any] | None:  # a Verdict or a row with its columns
        return None if v is None else {"verdict": v.verdict, "note": v.note, "by": v.by,
                                       "at": v.at.isoformat()}

    def finding_json(f: Finding, h: dict[str, Any]) -> dict[str, Any]:
        return {"id": f.id, "key": f.key, "origin": f.origin, "rule": f.rule,
                "severity": f.severity, "rep": f.rep, "side": f.side,
                "frame_start": f.frame_start, "frame_end": f.frame_end,
                "worst_frame": f.worst_frame, "value": f.value, "threshold": f.threshold,
                "unit": f.unit, "message": f.message, "note": f.note, "added_by": f.added_by,
                "verdict": verdict_json(h["current"]),
                "history": [verdict_json(v) for v in h["recent"]], "history_count": h["count"]}

    def session_json(sess: Session, full: bool = True, s: Any = None) -> dict[str, Any]:
        d = {"id": sess.id, "client_id": sess.client_id, "date": sess.date.isoformat(),
             "date_source": sess.date_source, "movement": sess.movement, "view": sess.view,
             "status": sess.status, "source_name": sess.source_name, "fps": sess.fps,
             "signed_off_by": sess.signed_off_by,
             "signed_off_at": sess.signed_off_at.isoformat() if sess.signed_off_at else None,
             "metrics": {k: getattr(sess, k) for k in store.METRICS}}
        if full:
            hist = verdicts_of(s, [f.id for f in sess.findings])
            d["findings"] = [finding_json(f, hist[f.id]) for f in sess.findings]
            d["report"] = json.loads(sess.report_json)
        return d

    def set_verdict(s: Any, fid: int, verdict: str, note: str, by: str) -> Finding:
        f = s.get(Finding, fid)
        if f is None:
            raise HTTPException(404, "No such finding.")
        if verdict not in VERDICTS:
            raise HTTPException(422, "A verdict is agree, disagree or unsure.")
        s.add(Verdict(finding_id=f.id, verdict=verdict, note=note[:5000], by=by))
        return f

    def progress_data(s: Any, cid: int) -> dict[str, Any]:
        c = get_client(s, cid)
        sessions = s.scalars(select(Session).where(Session.client_id == cid).options(
            selectinload(Session.findings).selectinload(Finding.verdicts))
            .order_by(Session.date, Session.id)).all()
        metrics = {k: [{"session_id": x.id, "date": x.date.isoformat(), "movement": x.movement,
                        "value": getattr(x, k)} for x in sessions] for k in store.METRICS}
        rules: dict[str, list[dict[str, Any]]] = {}
        names = sorted({f.rule for x in sessions for f in x.findings})
        for rule in names:
            for x in sessions:
                fs = [f for f in x.findings if f.rule == rule]
                cnt = {v: sum(1 for f in fs if f.origin == "tool" and f.current
                              and f.current.verdict == v) for v in VERDICTS}
                tool = [f for f in fs if f.origin == "tool"]
                rules.setdefault(rule, []).append({
                    "session_id": x.id, "date": x.date.isoformat(), "tool": len(tool),
                    **cnt, "missed": sum(1 for f in fs if f.origin != "tool"),
                    "confirmed": len(tool) - cnt["disagree"] + sum(1 for f in fs if f.origin != "tool")})
        return {"client": {"id": c.id, "name": c.name},
                "sessions": [session_json(x, full=False) for x in sessions],
                "metrics": metrics, "findings_per_rule": rules,
                "hip_rotation": store.hip_rotation_progress(sessions)}  # issue 13, per side

    # ---------------------------------------------------------------- JSON API
    @app.get("/api/clients")
    def api_clients() -> list[dict[str, Any]]:
        """Every client: id, name, notes, number of sessions, who created and last edited it."""
        with maker() as s:
            counts = dict(s.execute(select(Session.client_id, func.count(Session.id))
                                    .group_by(Session.client_id)).all())
            return [{"id": c.id, "name": c.name, "notes": c.notes, "sessions": counts.get(c.id, 0),
                     "created_by": c.created_by, "created_at": c.created_at.isoformat(),
                     "updated_by": c.updated_by, "updated_at": c.updated_at.isoformat()}
                    for c in s.scalars(select(Client).order_by(Client.name, Client.id))]

    @app.post("/api/clients", status_code=201)
    def api_create_client(body: ClientIn, request: Request) -> dict[str, Any]:
        """Create a client (name or code, notes)."""
        check_csrf(request, None)
        with maker.begin() as s:
            c = Client(name=body.name.strip(), notes=body.notes, created_by=request.state.user,
                       updated_by=request.state.user)
            s.add(c)
            s.flush()
            return {"id": c.id, "name": c.name, "notes": c.notes}

    @app.get("/api/clients/{cid}/sessions")
    def api_sessions(cid: int) -> list[dict[str, Any]]:
        """A client's sessions by date: movement, view, status, metrics, sign-off."""
        with maker() as s:
            get_client(s, cid)
            return [session_json(x, full=False) for x in s.scalars(
                select(Session).where(Session.client_id == cid).order_by(Session.date, Session.id))]

    @app.get("/api/sessions/{sid}")
    def api_session(sid: int) -> dict[str, Any]:
        """One session with its findings (ids, current verdict, the latest verdicts) and the
        whole report."""
        with maker() as s:
            return session_json(load_session(s, sid), s=s)

    @app.put("/api/findings/{fid}/verdict")
    def api_verdict(fid: int, body: VerdictIn, request: Request) -> dict[str, Any]:
        """Give a verdict on a finding: agree, disagree or unsure, with a note. The earlier
        verdicts are kept (history)."""
        check_csrf(request, None)
        with maker.begin() as s:  # the write transaction only (SQLite: holds the write lock)
            set_verdict(s, fid, body.verdict, body.note, request.state.user)
        with maker() as s:  # the answer is read after the commit
            f = s.get(Finding, fid)
            return finding_json(f, verdicts_of(s, [fid])[fid])

    @app.get("/api/findings/{fid}/history")
    def api_history(fid: int) -> list[dict[str, Any]]:
        """Every verdict given on this finding, oldest first."""
        with maker() as s:
            if s.get(Finding, fid) is None:
                raise HTTPException(404, "No such finding.")
            return [verdict_json(v) for v in s.scalars(
                select(Verdict).where(Verdict.finding_id == fid).order_by(Verdict.id))]

    @app.get("/api/clients/{cid}/progress")
    def api_progress(cid: int) -> dict[str, Any]:
        """A client's metrics per session over time, and findings per rule with the verdicts
        counted in."""
        with maker() as s:
            return progress_data(s, cid)

    @app.get("/api/jobs/{jid}")
    def api_job(jid: int) -> dict[str, Any]:
        """An analysis job (an upload): status, progress 0-1, message, the session it made."""
        with maker() as s:
            j = s.get(Job, jid)
            if j is None:
                raise HTTPException(404, "No such job.")
            return {"id": j.id, "status": j.status, "progress": j.progress, "message": j.message,
                    "session_id": j.session_id, "video_name": j.video_name,
                    "created_by": j.created_by, "created_at": j.created_at.isoformat()}

    # ---------------------------------------------------------------- pages
    @app.get("/api-docs", response_class=HTMLResponse)
    def api_docs(request: Request) -> HTMLResponse:
        """This API, listed from its OpenAPI description (served from the package)."""
        spec = app.openapi()
        endpoints = []
        for path, ops in spec.get("paths", {}).items():
            if not (path.startswith("/api/") or path == "/healthz"):
                continue
            for method, op in ops.items():
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                ref = str(body.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1]
                fields = spec.get("components", {}).get("schemas", {}).get(ref, {}).get("properties", {})
                endpoints.append({"method": method.upper(), "path": path,
                                  "summary": op.get("description") or op.get("summary", ""),
                                  "body": ", ".join(fields) if fields else ""})
        return render(request, "api_docs.html", spec=spec, endpoints=endpoints)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return render(request, "index.html", clients=api_clients())

    @app.post("/clients")
    def create_client(request: Request, name: str = Form(""), notes: str = Form(""),
                      csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        name = name.strip()
        if not name or len(name) > 200:
            return message(request, "A client needs a name or code of 1 to 200 characters.")
        with maker.begin() as s:
            c = Client(name=name, notes=notes[:20000], created_by=request.state.user,
                       updated_by=request.state.user)
            s.add(c)
            s.flush()
            cid = c.id
        return RedirectResponse(f"/clients/{cid}", 303)

    @app.get("/clients/{cid}", response_class=HTMLResponse)
    def client_page(request: Request, cid: int) -> HTMLResponse:
        with maker() as s:
            c = get_client(s, cid)
            sessions = s.scalars(select(Session).where(Session.client_id == cid)
                                 .order_by(Session.date, Session.id)).all()
            js = s.scalars(select(Job).where(Job.client_id == cid).order_by(Job.id.desc())
                           .limit(20)).all()
            return render(request, "client.html", client=c, sessions=sessions, jobs=js)

    @app.post("/clients/{cid}/edit")
    def edit_client(request: Request, cid: int, name: str = Form(""), notes: str = Form(""),
                    csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        name = name.strip()
        if not name or len(name) > 200:
            return message(request, "A client needs a name or code of 1 to 200 characters.")
        with maker.begin() as s:
            c = get_client(s, cid)
            c.name, c.notes, c.updated_at = name, notes[:20000], utcnow()
            c.updated_by = request.state.user
        return RedirectResponse(f"/clients/{cid}", 303)

    @app.get("/clients/{cid}/delete", response_class=HTMLResponse)
    def delete_confirm(request: Request, cid: int) -> HTMLResponse:
        with maker() as s:
            c = get_client(s, cid)
            n = len(c.sessions)
            nf = s.scalar(select(func.count(Finding.id)).join(Session)
                          .where(Session.client_id == cid)) or 0
            return render(request, "delete.html", client=c, n_sessions=n, n_findings=nf)

    @app.post("/clients/{cid}/delete", response_class=HTMLResponse)
    def delete_client(request: Request, cid: int, confirm: str = Form(""),
                      csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        with maker.begin() as s:
            c = get_client(s, cid)
            if confirm.strip() != c.name:
                return message(request, "Type the client's name exactly to confirm; nothing was deleted.")
            outs = {x.output_dir for x in c.sessions}
            vids = {j.video_sha256 for j in s.scalars(select(Job).where(Job.client_id == cid))}
            n_s = len(c.sessions)
            n_f = sum(len(x.findings) for x in c.sessions)
            n_v = sum(len(f.verdicts) for x in c.sessions for f in x.findings)
            name = c.name
            s.delete(c)
            s.flush()
            still_o = {o for (o,) in s.execute(select(Session.output_dir).where(Session.output_dir.in_(outs)))}
            still_v = {v for (v,) in s.execute(select(Job.video_sha256).where(Job.video_sha256.in_(vids)))}
        removed_o = removed_v = 0
        for o in outs - still_o:
            p = data / o
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
                removed_o += 1
        for v in vids - still_v:
            p = data / "videos" / f"{v}.video"
            if p.is_file():
                p.unlink()
                removed_v += 1
        return render(request, "message.html", title="Deleted", text=(
            f"Deleted client {name}: {n_s} session(s), {n_f} finding(s) with {n_v} verdict(s), "
            f"{removed_o} analysis folder(s) and {removed_v} uploaded video(s)."), status=200)

    @app.post("/clients/{cid}/upload", response_class=HTMLResponse)
    async def upload(request: Request, cid: int, video: UploadFile = File(...),  # noqa: B008 (FastAPI idiom)
                     movement: str = Form("auto"), date: str = Form(""),
                     csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        if movement not in ("auto", "squat", "hinge"):
            return message(request, "The movement is auto, squat or hinge.")
        entered = None
        if date:
            try:
                entered = dt.date.fromisoformat(date)
            except ValueError:
                return message(request, "The date is not a date (expected YYYY-MM-DD).")
        with maker() as s:
            get_client(s, cid)
        fd, tmpname = tempfile.mkstemp(dir=data / "tmp", suffix=".upload")
        tmp = Path(tmpname)
        h, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := await video.read(1 << 20):
                    size += len(chunk)
                    if size > max_upload_bytes:
                        return message(request, f"The file is larger than the upload limit "
                                                f"({max_upload_bytes // (1024 * 1024)} MB); nothing was stored.", 413)
                    h.update(chunk)
                    out.write(chunk)
            if size == 0:
                return message(request, "The file is empty; nothing was stored.")
            problem = _decode_check(tmp)
            if problem:
                return message(request, problem + " Nothing was stored.", 415)
            sha = h.hexdigest()
            dst = data / "videos" / f"{sha}.video"
            if not dst.exists():
                os.replace(tmp, dst)
            if entered is None:
                entered = store.video_date(dst)
            with maker.begin() as s:
                j = Job(client_id=cid, video_sha256=sha, movement=movement,
                        video_name=(video.filename or "video")[:400], entered_date=entered,
                        created_by=request.state.user)
                s.add(j)
        finally:
            tmp.unlink(missing_ok=True)
        jobs.wake()
        return RedirectResponse(f"/clients/{cid}", 303)

    @app.get("/sessions/{sid}", response_class=HTMLResponse)
    async def review(request: Request, sid: int) -> HTMLResponse:
        # async: the page only reads (WAL), a few milliseconds of work, so it runs on the event
        # loop instead of hopping to the thread pool; with 20 busy clients the hops and the GIL
        # contention between pool threads were a third of the server's time (py-spy)
        with maker() as s:
            sess = load_session(s, sid)
            report = json.loads(sess.report_json)
            out = data / sess.output_dir
            reps = [r for r in report.get("reps") or [] if isinstance(r, dict)]
            joints = [j for j in report.get("joints") or [] if isinstance(j, dict)]
            outputs = report.get("outputs") if isinstance(report.get("outputs"), dict) else {}
            video = outputs.get("video") or "annotated.mp4"
            has_video = isinstance(video, str) and (out / video).is_file()
            svgs = plots.angle_plots(out / "angles.csv", sess.fps, reps)
            return render(request, "review.html", s=sess, report=report, reps=reps,
                          hist=verdicts_of(s, [f.id for f in sess.findings]),
                          joints=joints, video=video if has_video else None,
                          frames=store.key_frames(out), plots=svgs,
                          rules=sorted({str(r.get("rule")) for r in report.get("rules") or []
                                        if isinstance(r, dict)} | {f.rule for f in sess.findings}))

    @app.post("/sessions/{sid}/findings/{fid}/verdict")
    def verdict_form(request: Request, sid: int, fid: int, verdict: str = Form(""),
                     note: str = Form(""), csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        with maker.begin() as s:
            f = set_verdict(s, fid, verdict, note, request.state.user)
            if f.session_id != sid:
                raise HTTPException(404, "No such finding in this session.")
        return RedirectResponse(f"/sessions/{sid}#finding-{fid}", 303)

    @app.post("/sessions/{sid}/missed")
    def add_missed(request: Request, sid: int, rule: str = Form(""), rep: str = Form(""),
                   side: str = Form("none"), frame: str = Form(""), note: str = Form(""),
                   csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        rule = rule.strip()
        if not rule or len(rule) > 100:
            return message(request, "A missed finding needs the rule it belongs to.")
        if side not in ("left", "right", "both", "none"):
            return message(request, "The side is left, right, both or none.")
        try:
            rep_n = int(rep) if rep.strip() else None
            frame_n = int(frame) if frame.strip() else None
        except ValueError:
            return message(request, "Rep and frame are whole numbers.")
        with maker.begin() as s:
            load_session(s, sid)
            f = Finding(session_id=sid, key=f"missed-{rule}-r{rep_n}-{side}-f{frame_n}",
                        origin="clinician", rule=rule, severity="", rep=rep_n, side=side,
                        frame_start=frame_n, frame_end=frame_n, worst_frame=frame_n,
                        message="Added by the clinician (missed by the tool).",
                        note=note[:5000], added_by=request.state.user)
            s.add(f)
        return RedirectResponse(f"/sessions/{sid}#findings", 303)

    @app.post("/sessions/{sid}/signoff")
    def sign_off(request: Request, sid: int, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        with maker.begin() as s:
            sess = load_session(s, sid)
            sess.signed_off_by, sess.signed_off_at = request.state.user, utcnow()
        return RedirectResponse(f"/sessions/{sid}", 303)

    @app.get("/clients/{cid}/progress", response_class=HTMLResponse)
    def progress_page(request: Request, cid: int) -> HTMLResponse:
        with maker() as s:
            p = progress_data(s, cid)
        svgs = _progress_plots(p)
        return render(request, "progress.html", p=p, plots=svgs)

    @app.get("/compare", response_class=HTMLResponse)
    def compare(request: Request, a: int, b: int) -> HTMLResponse:
        with maker() as s:
            sa, sb = load_session(s, a), load_session(s, b)
            if sa.client_id != sb.client_id:
                return message(request, "Both sessions must belong to the same client.")
            sides = []
            for x in (sa, sb):
                rep_n = store.worst_rep(json.loads(x.report_json), list(x.findings))
                sides.append({"s": x, "rep": rep_n,
                              "frames": store.key_frames(data / x.output_dir, rep_n),
                              "n_findings": len([f for f in x.findings if f.origin == "tool"])})
            rows = []
            for k, (label, unit) in store.METRICS.items():
                va, vb = getattr(sa, k), getattr(sb, k)
                rows.append({"label": label, "unit": unit, "a": va, "b": vb,
                             "change": (vb - va) if va is not None and vb is not None else None})
            return render(request, "compare.html", a=sides[0], b=sides[1], rows=rows,
                          same_movement=sa.movement == sb.movement)

    @app.get("/media/{sid}/{path:path}")
    def media(sid: int, path: str) -> FileResponse:
        with maker() as s:
            sess = s.get(Session, sid)
            if sess is None:
                raise HTTPException(404, "Not found.")
            root = (data / sess.output_dir).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file() or ".." in Path(path).parts:
            raise HTTPException(404, "Not found.")
        return FileResponse(target)

    @app.get("/sessions/{sid}/report.pdf")
    def session_pdf(request: Request, sid: int) -> Response:
        with maker() as s:
            load_session(s, sid)
        return _pdf(request, f"/sessions/{sid}?print=1", f"session-{sid}.pdf")

    @app.get("/clients/{cid}/progress.pdf")
    def progress_pdf(request: Request, cid: int) -> Response:
        with maker() as s:
            get_client(s, cid)
        return _pdf(request, f"/clients/{cid}/progress?print=1", f"progress-{cid}.pdf")

    return app


def _decode_check(path: Path) -> str:
    """'' when PyAV decodes a video frame from the file, else a sentence saying why not."""
    try:
        import av

        with av.open(str(path)) as c:
            if not c.streams.video:
                return "The file has no video stream."
            for frame in c.decode(video=0):
                if frame.width > 0:
                    return ""
                break
    except Exception:
        return "The file is not a video that can be decoded (checked by decoding, not by its name)."
    return "No video frame could be decoded from the file."


def _progress_plots(p: dict[str, Any]) -> list[str]:
    dates = [dt.date.fromisoformat(x["date"]) for x in p["sessions"]]
    if not dates:
        return []
    d0 = min(dates)

    def xof(d: str) -> float:
        return float((dt.date.fromisoformat(d) - d0).days)

    ticks = [(xof(x["date"]), x["date"]) for x in p["sessions"]]
    out = []
    for k, (label, unit) in store.METRICS.items():
        pts = [(xof(r["date"]), r["value"]) for r in p["metrics"][k] if r["value"] is not None]
        by_mov: dict[str, list[tuple[float, float]]] = {}
        for r in p["metrics"][k]:
            if r["value"] is not None:
                by_mov.setdefault(r["movement"], []).append((xof(r["date"]), r["value"]))
        if pts:
            out.append(plots.line_plot(by_mov, title=label, xlabel="date", ylabel=unit,
                                       xticks=ticks))
    for k, (label, unit) in store.HIP_METRICS.items():  # issue 13: left and right lines
        rows = p.get("hip_rotation", {}).get(k, [])
        sides = {s: [(xof(r["date"]), r[s]) for r in rows if r[s] is not None] for s in ("left", "right")}
        if any(sides.values()):
            out.append(plots.line_plot(sides, title=label, xlabel="date", ylabel=unit, xticks=ticks))
    for rule, rows in p["findings_per_rule"].items():
        out.append(plots.line_plot(
            {"tool": [(xof(r["date"]), float(r["tool"])) for r in rows],
             "confirmed (minus disagreed, plus missed)": [(xof(r["date"]), float(r["confirmed"])) for r in rows]},
            title=f"Findings per session: {rule}", xlabel="date", ylabel="count", xticks=ticks))
    return out


def _pdf(request: Request, path: str, filename: str) -> Response:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise HTTPException(501, "PDF needs the playwright package and Chromium "
                                 "(/usr/bin/chromium); print the page from the browser instead.") from None
    exe = os.environ.get("MOVESCREEN_CHROMIUM", "/usr/bin/chromium")
    if not Path(exe).exists():
        raise HTTPException(501, f"PDF needs Chromium at {exe}; print the page from the browser instead.")
    base = str(request.base_url).rstrip("/")
    cookies = [{"name": k, "value": v, "url": base} for k, v in request.cookies.items()]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-dev-shm-usage"])
        try:
            ctx = browser.new_context()
            if cookies:
                ctx.add_cookies(cookies)
            page = ctx.new_page()
            page.goto(base + path, wait_until="load")
            pdf = page.pdf(format="A4", print_background=True,
                           margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
