"""Scale-out rehearsal on 127.0.0.1: two app servers behind nginx, one scheduler.

    python -m bench.scale_out [--duration 20]

Stands for a production set-up of several machines (docs/deployment.md):
two gunicorn instances on different ports, nginx balancing between them,
one ``flask lms scheduler`` process, PostgreSQL and Redis. It creates its
own PostgreSQL database, fills it with tier S data and drops it at the end;
it empties the Redis database of ``--redis-url`` (FLUSHDB) before it starts.
It then checks that the servers behave as one system:

1. a login made through one server is valid on the other;
2. the per-account login limit counts failures on both servers together;
3. a file uploaded through one server is served by the other;
4. under load through nginx, one server stopped gracefully (SIGTERM) and
   later the other killed (SIGKILL) lose no GET, and every POST that was
   answered is in the database.

It prints one line per check and exits non-zero if any check fails.
"""

import argparse
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import sqlalchemy as sa

from bench.generate import generate
from bench.inputs import positive_int, require_programs
from bench.run import Browser, free_port, learner_paths

ROOT = Path(__file__).resolve().parent.parent

# nginx's temporary folders, named in NGINX_CONF.
NGINX_TEMP_FOLDERS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
  # Student evaluation codes travel in the query string of /evaluate. The
  # log leaves that path out, so no code is kept with a time and an address.
  map $uri $loggable {{
    /evaluate 0;
    default 1;
  }}
  access_log {work}/nginx-access.log combined if=$loggable;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  upstream shuren {{
    server 127.0.0.1:{port_a} max_fails=1 fail_timeout=3s;
    server 127.0.0.1:{port_b} max_fails=1 fail_timeout=3s;
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 50m;
    location / {{
      proxy_pass http://shuren;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      # GETs go to the other server when one is down; a POST is retried only
      # if it never reached a server (connection refused).
      proxy_next_upstream error timeout http_502 http_503;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class Process:
    def __init__(self, name: str, command: list[str], env: dict, work: Path):
        self.name = name
        self.command = command
        self.env = env
        self.log_path = work / f"{name}.log"
        self.process = None
        self.start()

    def start(self) -> None:
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=3).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer")
            time.sleep(0.3)


def gunicorn(name: str, port: int, env: dict, work: Path) -> Process:
    return Process(
        name,
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--graceful-timeout", "20", "wsgi:app"],
        env,
        work,
    )


def make_work_folder() -> Path:
    """Create the rehearsal's private work folder with nginx's temporary folders in it."""
    work = Path(tempfile.mkdtemp(prefix="shuren-scaleout-"))
    for folder in NGINX_TEMP_FOLDERS:
        (work / folder).mkdir(mode=0o700)
    return work


def remove_all_but_logs(work: Path) -> None:
    """Remove everything in ``work`` except the ``*.log`` files at its top."""
    for entry in work.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.suffix != ".log":
            entry.unlink(missing_ok=True)


def ports_option(text: str) -> tuple[int, int, int]:
    """Argparse type of ``--ports``: three different TCP ports, for A, B and nginx."""
    try:
        ports = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid ports {text!r}: give three numbers") from None
    if len(ports) != 3 or len(set(ports)) != 3 or not all(1 <= port <= 65535 for port in ports):
        raise argparse.ArgumentTypeError(
            f"invalid ports {text!r}: give three different ports from 1 to 65535"
        )
    return ports


#: Maximum length of the database prefix. PostgreSQL names are 63 bytes maximum, and 8 are random.
MAX_DATABASE_PREFIX = 55


def database_prefix_option(text: str) -> str:
    """Argparse type of ``--database-prefix``: the lower-case start of a PostgreSQL name."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", text) or len(text) > MAX_DATABASE_PREFIX:
        raise argparse.ArgumentTypeError(
            f"invalid prefix {text!r}: use lower-case letters, digits and _, "
            f"not starting with a digit, {MAX_DATABASE_PREFIX} characters maximum"
        )
    return text


def choose_ports(ports) -> tuple[int, int, int]:
    """Return the ports of server A, server B and nginx: the given ones, or free ones."""
    return tuple(ports) if ports else (free_port(), free_port(), free_port())


class Rehearsal:
    def __init__(self, pg_url: str, redis_url: str, duration: int,
                 database_prefix: str = "shuren_scaleout_", ports=None):
        self.duration = duration
        self.ports = ports
        self.work = make_work_folder()
        self.processes: list[Process] = []
        base = sa.engine.make_url(pg_url)
        self.database = f"{database_prefix}{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        try:
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{self.database}"')
        except BaseException:
            self.admin.dispose()
            shutil.rmtree(self.work, ignore_errors=True)
            raise
        self.database_url = base.set(database=self.database).render_as_string(False)
        self.redis_url = redis_url
        self.results: list[tuple[str, bool, str]] = []

    # -- set-up ------------------------------------------------------------------

    def start(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        print(f"generating tier S into {self.database} ...", flush=True)
        generate(self.database_url, "S")
        self.env = dict(
            os.environ,
            LMS_DATABASE_URL=self.database_url,
            LMS_REDIS_URL=self.redis_url,
            LMS_SECRET_KEY="scale-out-rehearsal-secret",
            LMS_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
            LMS_PROXY_COUNT="1",
            LMS_LOGIN_RATE_LIMIT="1000 per minute",
            LMS_LOGIN_ACCOUNT_RATE_LIMIT="5 per hour",
            # Lessons may be marked complete as soon as they are opened, so
            # the failover check's completion POSTs are accepted.
            LMS_LESSON_MIN_TIME_SHARE="0",
            LMS_UPLOAD_DIR=str(self.work / "shared" / "uploads"),
            LMS_EVIDENCE_DIR=str(self.work / "shared" / "evidence"),
            LMS_CERTIFICATE_DIR=str(self.work / "shared" / "certificates"),
        )
        self.port_a, self.port_b, self.port = choose_ports(self.ports)
        self.app_a = gunicorn("app-a", self.port_a, self.env, self.work)
        self.app_b = gunicorn("app-b", self.port_b, self.env, self.work)
        self.scheduler = Process(
            "scheduler", [sys.executable, "-m", "flask", "--app", "wsgi", "lms", "scheduler"],
            self.env, self.work,
        )
        conf = self.work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=self.work, port=self.port,
                                          port_a=self.port_a, port_b=self.port_b))
        self.nginx = Process("nginx", ["nginx", "-p", str(self.work), "-c", str(conf)],
                             self.env, self.work)
        self.processes = [self.app_a, self.app_b, self.scheduler, self.nginx]
        self.a = f"http://127.0.0.1:{self.port_a}"
        self.b = f"http://127.0.0.1:{self.port_b}"
        self.front = f"http://127.0.0.1:{self.port}"
        for url in (self.a, self.b, self.front):
            wait_for(url + "/login")

    def record(self, name: str, ok: bool, detail: str) -> None:
        self.results.append((name, ok, detail))
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}", flush=True)

    # -- checks ------------------------------------------------------------------

    def check_sessions(self) -> None:
        browser = Browser(self.a)
        browser.log_in("demo-u00001")
        other = Browser(self.b)
        other.jar = browser.jar
        other.opener = browser.opener
        other.base = self.b
        status, page = other.get("/learning")
        ok = status == 200 and "/login" not in page[:2000]
        self.record("session shared", ok, f"login on server A, /learning on server B answered {status}")

    def check_rate_limit(self) -> None:
        statuses = []
        for attempt in range(7):
            base = self.a if attempt % 2 == 0 else self.b
            browser = Browser(base)
            _s, page = browser.get("/login")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            body = urllib.parse.urlencode(
                {"username": "demo-u00999", "password": "wrong-password", "csrf_token": token}
            ).encode()
            try:
                with browser.opener.open(base + "/login", body, timeout=30) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        ok = statuses[:5] == [200] * 5 and all(s == 429 for s in statuses[5:])
        self.record("login limit shared", ok,
                    f"7 failed logins alternating A/B with a limit of 5 per hour: {statuses}")

    def check_uploads(self) -> None:
        browser = Browser(self.a)
        browser.log_in("demo-u00003")
        _s, page = browser.get("/records/external")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        content = b"%PDF-1.7\n" + os.urandom(2048)
        boundary = uuid.uuid4().hex
        fields = {"csrf_token": token, "title": "省级辅导员骨干培训", "organiser": "省教育厅",
                  "tier": "provincial", "kind": "backbone_camp", "start_date": "2026-05-10",
                  "end_date": "2026-05-12", "hours": "24"}
        body = io.BytesIO()
        for key, value in fields.items():
            body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n"
                       f"{value}\r\n".encode())
        body.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; "
                   f"filename=\"证书.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".encode())
        body.write(content + f"\r\n--{boundary}--\r\n".encode())
        request = urllib.request.Request(
            self.a + "/records/external", body.getvalue(),
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with browser.opener.open(request, timeout=30) as response:
            listing = response.read().decode()
        match = re.search(r'href="(/records/external/\d+/evidence)"', listing)
        if not match:
            self.record("uploads shared", False, "the submission page lists no evidence link")
            return
        other = Browser(self.b)
        other.jar, other.opener = browser.jar, browser.opener
        with other.opener.open(self.b + match.group(1), timeout=30) as response:
            served = response.read()
        self.record("uploads shared", served == content,
                    f"uploaded {len(content)} bytes on A, B served {len(served)} identical bytes"
                    if served == content else "B served different bytes")

    def check_failover(self) -> None:
        engine = sa.create_engine(self.database_url)
        pages = learner_paths(engine, "demo-univ", 20)
        browsers = []
        for username, paths in pages.items():
            browser = Browser(self.front)
            browser.log_in(username)
            _s, page = browser.get("/account/password")
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            lessons = []
            for path in paths:
                if "/lessons/" not in path:
                    continue
                # Opening the lesson records the first view that completing it needs.
                # Offline and locked lessons show no completion form and are left out.
                status, page = browser.get(path)
                if status == 200 and f'action="{path}/complete"' in page:
                    lessons.append(path)
            browsers.append((username, browser, token, paths, lessons))
        # Forget the learners' completions of these lessons, so that every
        # completion found afterwards was stored by a POST of this check.
        with engine.begin() as conn:
            for username, _browser, _token, _paths, lessons in browsers:
                for lesson in lessons:
                    conn.execute(sa.text(
                        'DELETE FROM lesson_progress WHERE lesson_id = :l AND user_id = '
                        '(SELECT id FROM "user" WHERE username = :u)'),
                        {"l": int(lesson.rsplit("/", 1)[1]), "u": username})

        stop = threading.Event()
        tally = {"get_ok": 0, "get_failed": 0, "post_ok": 0, "post_rejected": 0, "post_failed": 0}
        answered_posts: list[tuple[str, str]] = []
        lock = threading.Lock()

        def worker(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                username, browser, token, paths, lessons = rng.choice(browsers)
                if lessons and rng.random() < 0.2:
                    lesson = rng.choice(lessons)
                    body = urllib.parse.urlencode({"csrf_token": token}).encode()
                    try:
                        with browser.opener.open(self.front + lesson + "/complete", body,
                                                 timeout=30) as response:
                            # A rejected completion redirects back to the lesson.
                            rejected = response.url.endswith(lesson)
                            outcome = "post_rejected" if rejected else "post_ok"
                    except (urllib.error.URLError, OSError):
                        outcome = "post_failed"
                    with lock:
                        tally[outcome] += 1
                        if outcome == "post_ok":
                            answered_posts.append((username, lesson))
                else:
                    status, _ = browser.get(rng.choice(paths))
                    with lock:
                        tally["get_ok" if status == 200 else "get_failed"] += 1

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        step = self.duration / 4
        time.sleep(step)
        self.app_a.stop(signal.SIGTERM)
        time.sleep(step)
        self.app_a.start()
        wait_for(self.a + "/login")
        time.sleep(step)
        self.app_b.stop(signal.SIGKILL)
        time.sleep(step)
        stop.set()
        for thread in threads:
            thread.join()

        missing = 0
        with engine.connect() as conn:
            for username, lesson in set(answered_posts):
                lesson_id = int(lesson.rsplit("/", 1)[1])
                found = conn.scalar(sa.text(
                    'SELECT COUNT(*) FROM lesson_progress p JOIN "user" u ON u.id = p.user_id '
                    "WHERE u.username = :u AND p.lesson_id = :l"), {"u": username, "l": lesson_id})
                missing += 0 if found else 1
        engine.dispose()
        self.record("failover GETs", tally["get_failed"] == 0,
                    f"{tally['get_ok']} answered, {tally['get_failed']} failed while A was "
                    "stopped gracefully and B was killed")
        self.record("failover POSTs", missing == 0 and tally["post_rejected"] == 0,
                    f"{tally['post_ok']} answered, {missing} of them not stored, "
                    f"{tally['post_rejected']} rejected by the app; "
                    f"{tally['post_failed']} failed in flight when B was killed (never answered, "
                    "so the client knows to retry)")

    # -- tear-down ---------------------------------------------------------------

    def stop(self, keep_logs: bool = False) -> None:
        """Stop the processes, drop the database and remove the work folder.

        With ``keep_logs`` the processes' logs stay in the work folder. The
        rest of it (nginx's configuration and temporary files, the uploads)
        is removed all the same.
        """
        try:
            for process in reversed(self.processes):
                process.stop()
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.admin.dispose()
        finally:
            if keep_logs:
                remove_all_but_logs(self.work)
                print(f"logs kept in {self.work}", flush=True)
            else:
                shutil.rmtree(self.work, ignore_errors=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
                        help="any database on the server; the rehearsal creates its own")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7",
                        help="a Redis database for the rehearsal alone: it is emptied "
                             "(FLUSHDB) when the rehearsal starts, so name one that holds "
                             "nothing you need (default: database 7)")
    parser.add_argument("--database-prefix", type=database_prefix_option,
                        default="shuren_scaleout_",
                        help="start of the name of the database the rehearsal creates and "
                             "drops; 8 random characters follow (default: shuren_scaleout_)")
    parser.add_argument("--ports", type=ports_option, default=None,
                        help="three different ports on 127.0.0.1 for server A, server B and "
                             "nginx, as A,B,NGINX (default: free ports the system picks)")
    parser.add_argument("--duration", type=positive_int, default=20, help="seconds of load")
    parser.add_argument("--keep", action="store_true",
                        help="keep the servers', scheduler's and nginx's logs in the work "
                             "folder (shuren-scaleout-* in the system's temporary folder); "
                             "the rest of the folder and the database are removed as usual")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    require_programs("nginx")
    rehearsal = Rehearsal(args.pg_url, args.redis_url, args.duration,
                          database_prefix=args.database_prefix, ports=args.ports)
    try:
        rehearsal.start()
        rehearsal.check_sessions()
        rehearsal.check_rate_limit()
        rehearsal.check_uploads()
        rehearsal.check_failover()
    finally:
        rehearsal.stop(keep_logs=args.keep)
    failed = [name for name, ok, _ in rehearsal.results if not ok]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
