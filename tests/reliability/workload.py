"""The mixed workload of the load and fault tests: clients of the spec's users, each logging what it was told.

Fifty asyncio clients (httpx, 127.0.0.1 only) loop until the deadline, each picking an operation by weight:
lookups by id and by subject version (90 %), compatibility checks (8 %), registrations (2 %), and a little of
review approvals, code generation requests and deprecations. Even clients sign in with Basic, odd ones with a
bearer token. Every acknowledged registration (subject, version, id, content fingerprint) and every error
answer goes to the client's log, which the invariant check (`invariants.py`) holds against the database.

Subjects are import paths. Ordinary subjects import a common one (a reference) and grow one field per step,
so a registration is compatible and two clients registering the same step register the same content.
One subject in ten is a review subject: its proposals flip a field's type, which the review policy holds
(202) until the reviewer approves it.
"""

import asyncio
import base64
import concurrent.futures
import hashlib
import json
import logging
import os
import random
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx

# A line per request would drown the failure report of a run of thousands.
logging.getLogger("httpx").setLevel(logging.WARNING)

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
REVIEW_EVERY = 10  # one subject in ten takes proposals that need a review
COMMONS_PER_SUBJECTS = 25  # one common (imported) subject per this many subjects
SEEDED_SUBJECTS = 50  # subjects given a first version before the clock starts, so lookups have targets
REVIEW_CONFLICTS = {40911, 40912, 40913, 40914}  # not pending, not prepared yet, stale, notice period

# Share of each operation (the spec's 90/8/2, then the rarer governance calls).
MIX = {
    "lookup_id": 45.0,
    "lookup_version": 45.0,
    "compatibility": 8.0,
    "register": 2.0,
    "approve": 0.5,
    "codegen": 0.2,
    "deprecate": 0.1,
}


@dataclass(frozen=True)
class Scale:
    """How big a run is: `RELIABILITY_SCALE=full` (make load, make faults) or the short one CI runs."""

    seconds: float
    clients: int
    subjects: int

    @classmethod
    def from_environment(cls) -> "Scale":
        full = os.environ.get("RELIABILITY_SCALE", "short") == "full"
        return cls(
            seconds=float(os.environ.get("RELIABILITY_SECONDS") or (60 if full else 5)),
            clients=int(os.environ.get("RELIABILITY_CLIENTS") or 50),
            subjects=int(os.environ.get("RELIABILITY_SUBJECTS") or (500 if full else 20)),
        )


# Schemas ---------------------------------------------------------------------------------------------------


def common_subject(number: int) -> str:
    return f"load_common_{number}.proto"


def common_schema(number: int) -> str:
    return (
        f'syntax = "proto3";\npackage load.common{number};\n\n'
        "message Money {\n  string currency = 1;\n  int64 units = 2;\n}\n"
    )


def subject_name(index: int) -> str:
    return f"load_s{index:04d}.proto"


def is_review_subject(index: int) -> bool:
    return index % REVIEW_EVERY == 0


def commons_for(subjects: int) -> int:
    return max(1, subjects // COMMONS_PER_SUBJECTS)


def event_schema(index: int, step: int, commons: int) -> tuple[str, list[dict]]:
    """Return step `step` of an ordinary subject: one more field than the step before, importing its common."""
    common = index % commons
    fields = "".join(f"  string note_{number} = {number};\n" for number in range(3, step + 3))
    text = (
        f'syntax = "proto3";\npackage load.s{index};\n\nimport "{common_subject(common)}";\n\n'
        f"message Event {{\n  string key = 1;\n  load.common{common}.Money amount = 2;\n{fields}}}\n"
    )
    return text, [{"name": common_subject(common), "subject": common_subject(common), "version": 1}]


def proposal_schema(index: int, proposal: int) -> str:
    """Return a review subject's proposal: the type of `kind` flips each time, which breaks its readers."""
    kind = "string" if proposal % 2 == 0 else "int64"
    return (
        f'syntax = "proto3";\npackage load.s{index};\n\n'
        f"message Event {{\n  {kind} kind = 1;\n  string note_{proposal} = 2;\n}}\n"
    )


def fingerprint(schema: str, references: list[dict] | None) -> str:
    """Return what identifies a registered content in the logs: its text and its references, in order."""
    refs = [{"name": ref["name"], "subject": ref["subject"], "version": ref["version"]} for ref in references or []]
    return hashlib.sha256(json.dumps({"schema": schema, "references": refs}, sort_keys=True).encode()).hexdigest()


# What the clients log ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledged:
    """A registration the registry acknowledged: it must be in the database with this id, for ever."""

    subject: str
    version: int
    schema_id: int
    fingerprint: str
    operation: str
    attempts: int


@dataclass(frozen=True)
class ErrorAnswer:
    """An answer that was not a success (status 0: no answer at all, the connection failed)."""

    operation: str
    method: str
    path: str
    status: int
    error_code: int | None
    json_shape: bool
    started: float
    finished: float
    message: str

    @property
    def kind(self) -> str:
        if self.status == 0:
            return "no answer"
        return f"{self.status}/{self.error_code}" if self.error_code is not None else f"{self.status}/not JSON"


@dataclass
class ClientLog:
    client: int
    auth: str
    acknowledged: list[Acknowledged] = field(default_factory=list)
    errors: list[ErrorAnswer] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    answers: Counter = field(default_factory=Counter)
    # (operation, status, when the answer came): which requests were served while a fault lasted.
    timeline: list[tuple[str, int, float]] = field(default_factory=list)
    codegen_jobs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    """When a fault was injected and when it was repaired (monotonic seconds).

    A window that `excuses` failures lets answers overlapping it fail cleanly (an outage of PostgreSQL, a killed
    worker); one that does not (Redis, which the registry must not need) excuses nothing.
    """

    name: str
    started: float
    ended: float
    excuses: bool = True


class Faults:
    """The faults a scenario injects while the load runs; answers overlapping a window may fail cleanly."""

    # A request sent just before the repair may still fail just after it.
    SETTLE_SECONDS = 2.0

    def __init__(self):
        self.windows: list[Window] = []
        # Answers that failed (no answer, or 5xx) as the clients saw them, so a scenario can wait for one it needs.
        self.failures: list[ErrorAnswer] = []
        self._lock = threading.Lock()

    @contextmanager
    def window(self, name: str, *, excuses: bool = True):
        started = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self.windows.append(Window(name, started, time.monotonic(), excuses))

    def covering(self, error: ErrorAnswer) -> Window | None:
        """Return the window that excuses a failure of this answer, if any."""
        for window in self.windows:
            overlaps = error.started <= window.ended + self.SETTLE_SECONDS and error.finished >= window.started
            if overlaps and window.excuses:
                return window
        return None

    @property
    def names(self) -> list[str]:
        return [window.name for window in self.windows]


# The shared knowledge of the clients (one event loop, so no locks) -----------------------------------------------


@dataclass
class Catalogue:
    """What the clients were told so far: acknowledged versions, known ids, pending reviews."""

    subjects: int
    commons: int
    versions: list[Acknowledged] = field(default_factory=list)
    ids: dict[int, str] = field(default_factory=dict)
    steps: dict[int, int] = field(default_factory=dict)
    proposals: Counter = field(default_factory=Counter)
    pending_reviews: dict[int, tuple[str, str]] = field(default_factory=dict)

    def learn(self, acknowledged: Acknowledged) -> None:
        self.versions.append(acknowledged)
        self.ids[acknowledged.schema_id] = acknowledged.fingerprint


# The clients ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    token: str

    def auth_headers(self, kind: str) -> dict[str, str]:
        if kind == "bearer":
            return {"Authorization": f"Bearer {self.token}"}
        pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}


@dataclass
class Answer:
    status: int
    body: object
    started: float
    finished: float


def require_loopback(url: str) -> None:
    """The load runs against this machine only."""
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the load test runs against 127.0.0.1 only, not {host}")


class Client:
    """One simulated user: loops over weighted operations until the deadline, logging every answer."""

    RETRIES = 30

    def __init__(
        self, number: int, http: httpx.AsyncClient, writer: Account, reviewer: Account, catalogue, mix, faults=None
    ):
        self.faults = faults
        self.log = ClientLog(client=number, auth="basic" if number % 2 == 0 else "bearer")
        self.http = http
        self.writer = writer.auth_headers(self.log.auth)
        self.reviewer = reviewer.auth_headers(self.log.auth)
        self.catalogue = catalogue
        self.random = random.Random(number)
        self.operations = list(mix)
        self.weights = list(mix.values())

    async def run(self, deadline: float, faults_injected: asyncio.Event) -> ClientLog:
        """Loop until the deadline, and on past it until the faults are injected (a fault needs load to cut)."""
        while time.monotonic() < deadline or not faults_injected.is_set():
            operation = self.random.choices(self.operations, self.weights)[0]
            await getattr(self, operation)()
        return self.log

    async def call(self, operation: str, method: str, path: str, *, body=None, headers=None) -> Answer:
        started = time.monotonic()
        try:
            response = await self.http.request(
                method, path, json=body, headers={**(headers or self.writer), "Content-Type": CONTENT_TYPE}
            )
        except httpx.HTTPError as failure:
            answer = Answer(0, None, started, time.monotonic())
            self._error(operation, method, path, answer, type(failure).__name__)
            return answer
        finished = time.monotonic()
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        answer = Answer(response.status_code, parsed, started, finished)
        self.log.answers[(operation, response.status_code)] += 1
        self.log.latencies.setdefault(operation, []).append(finished - started)
        self.log.timeline.append((operation, response.status_code, finished))
        if response.status_code >= 300:
            self._error(operation, method, path, answer, response.text[:200])
        return answer

    def _error(self, operation: str, method: str, path: str, answer: Answer, message: str) -> None:
        body = answer.body if isinstance(answer.body, dict) else {}
        shaped = isinstance(body.get("error_code"), int) and isinstance(body.get("message"), str)
        error = ErrorAnswer(
            operation,
            method,
            path,
            answer.status,
            body.get("error_code") if shaped else None,
            shaped,
            answer.started,
            answer.finished,
            message,
        )
        self.log.errors.append(error)
        if self.faults is not None and (answer.status == 0 or answer.status >= 500):
            self.faults.failures.append(error)

    async def call_until_answered(self, operation: str, method: str, path: str, *, body) -> tuple[Answer, int]:
        """Send a write again while there is no answer or a 5xx (an outage): it is idempotent by content."""
        for attempt in range(1, self.RETRIES + 1):
            answer = await self.call(operation, method, path, body=body)
            if answer.status and answer.status < 500:
                return answer, attempt
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        return answer, self.RETRIES

    # Operations -------------------------------------------------------------------------------------------

    def _known_version(self) -> Acknowledged | None:
        versions = self.catalogue.versions
        return versions[self.random.randrange(len(versions))] if versions else None

    async def lookup_id(self) -> None:
        known = self._known_version()
        if known is None:
            return
        answer = await self.call("lookup_id", "GET", f"/schemas/ids/{known.schema_id}")
        if (
            answer.status == 200
            and fingerprint(answer.body["schema"], answer.body.get("references")) != known.fingerprint
        ):
            self.log.wrong_answers.append(f"/schemas/ids/{known.schema_id} answered other content than was registered")

    async def lookup_version(self) -> None:
        known = self._known_version()
        if known is None:
            return
        path = f"/subjects/{known.subject}/versions/{known.version}"
        answer = await self.call("lookup_version", "GET", path)
        if answer.status == 200 and answer.body.get("id") != known.schema_id:
            self.log.wrong_answers.append(
                f"{path} answered id {answer.body.get('id')}, registered as {known.schema_id}"
            )

    async def compatibility(self) -> None:
        known = self._known_version()
        index = _index_of(known.subject) if known else None
        if index is None or is_review_subject(index):
            return
        text, references = event_schema(index, self.catalogue.steps.get(index, 1) + 1, self.catalogue.commons)
        await self.call(
            "compatibility",
            "POST",
            f"/compatibility/subjects/{known.subject}/versions/latest",
            body={"schema": text, "schemaType": "PROTOBUF", "references": references},
        )

    async def register(self) -> None:
        index = self.random.randrange(self.catalogue.subjects)
        if is_review_subject(index):
            await self.propose(index)
            return
        step = self.catalogue.steps.get(index, 0) + 1
        text, references = event_schema(index, step, self.catalogue.commons)
        acknowledged = await self.register_content(index, text, references)
        if acknowledged is not None:
            self.catalogue.steps[index] = max(step, self.catalogue.steps.get(index, 0))

    async def propose(self, index: int) -> None:
        self.catalogue.proposals[index] += 1
        await self.register_content(index, proposal_schema(index, self.catalogue.proposals[index]), [])

    async def register_content(self, index: int, text: str, references: list[dict]) -> Acknowledged | None:
        subject = subject_name(index)
        body = {"schema": text, "schemaType": "PROTOBUF", "references": references}
        answer, attempts = await self.call_until_answered(
            "register", "POST", f"/subjects/{subject}/versions?verbose=true", body=body
        )
        content = fingerprint(text, references)
        if answer.status == 202:
            self.catalogue.pending_reviews[answer.body["review_id"]] = (subject, content)
        if answer.status != 200:
            return None
        acknowledged = Acknowledged(subject, answer.body["version"], answer.body["id"], content, "register", attempts)
        self.log.acknowledged.append(acknowledged)
        self.catalogue.learn(acknowledged)
        return acknowledged

    async def approve(self) -> None:
        pending = self.catalogue.pending_reviews
        if not pending:
            return
        review_id = self.random.choice(list(pending))
        answer = await self.call("approve", "POST", f"/reviews/{review_id}/approve", body={}, headers=self.reviewer)
        if answer.status == 409 and answer.body.get("error_code") == 40911:
            pending.pop(review_id, None)  # decided already (by another reviewer client)
        if answer.status != 200:
            return
        subject, content = pending.pop(review_id, (None, None))
        registered = answer.body.get("registeredVersion")
        if registered and content:
            acknowledged = Acknowledged(subject, registered["version"], registered["id"], content, "approve", 1)
            self.log.acknowledged.append(acknowledged)
            self.catalogue.learn(acknowledged)

    async def codegen(self) -> None:
        known = self._known_version()
        if known is None:
            return
        answer = await self.call("codegen", "POST", "/generate/python", body={"subject": known.subject})
        if answer.status in (200, 202):
            self.log.codegen_jobs.append(answer.body["job_id"])

    async def deprecate(self) -> None:
        known = self._known_version()
        if known is None:
            return
        path = f"/subjects/{known.subject}/versions/{known.version}/deprecate"
        await self.call("deprecate", "POST", path, body={"reason": "load test"})


def _index_of(subject: str) -> int | None:
    """Return the number of an ordinary or review subject; None for a common one."""
    number = subject.removeprefix("load_s").removesuffix(".proto")
    return int(number) if number.isdigit() else None


# A run ---------------------------------------------------------------------------------------------------------


@dataclass
class LoadRun:
    """The clients' logs of one run; `seeding` is the log of what was registered before the clock started."""

    scale: Scale
    seeding: ClientLog
    logs: list[ClientLog]
    seconds: float
    faults: Faults

    @property
    def acknowledged(self) -> list[Acknowledged]:
        return [item for log in (self.seeding, *self.logs) for item in log.acknowledged]

    @property
    def errors(self) -> list[ErrorAnswer]:
        return [item for log in (self.seeding, *self.logs) for item in log.errors]

    @property
    def requests(self) -> int:
        failed = sum(1 for log in self.logs for error in log.errors if error.status == 0)
        return sum(sum(log.answers.values()) for log in self.logs) + failed

    def latencies(self) -> list[float]:
        return sorted(value for log in self.logs for values in log.latencies.values() for value in values)

    def percentile(self, share: float) -> float:
        values = self.latencies()
        return values[min(len(values) - 1, int(share * len(values)))] if values else 0.0

    def served_between(self, start: float, end: float, operations: tuple[str, ...]) -> int:
        """Count the successful answers to these operations that came between two moments."""
        return sum(
            1
            for log in self.logs
            for operation, status, when in log.timeline
            if operation in operations and status < 300 and start <= when <= end
        )

    def answers(self) -> Counter:
        total = Counter()
        for log in self.logs:
            total.update(log.answers)
        return total


async def seed(http: httpx.AsyncClient, writer: Account, catalogue: Catalogue) -> ClientLog:
    """Register the common subjects, then a first version of the first subjects, so lookups have targets."""
    seeder = Client(-1, http, writer, writer, catalogue, MIX)
    for number in range(catalogue.commons):
        subject, text = common_subject(number), common_schema(number)
        answer, attempts = await seeder.call_until_answered(
            "seed", "POST", f"/subjects/{subject}/versions?verbose=true", body={"schema": text}
        )
        if answer.status != 200:
            raise RuntimeError(f"seeding {subject} failed: {answer.status} {answer.body}")
        acknowledged = Acknowledged(
            subject, answer.body["version"], answer.body["id"], fingerprint(text, []), "seed", attempts
        )
        seeder.log.acknowledged.append(acknowledged)
        catalogue.learn(acknowledged)
    gate = asyncio.Semaphore(8)

    async def first_version(index: int) -> None:
        async with gate:
            text, references = event_schema(index, 1, catalogue.commons)
            if await seeder.register_content(index, text, references) is None:
                raise RuntimeError(f"seeding {subject_name(index)} failed: {seeder.log.errors[-1:]}")
            catalogue.steps[index] = 1

    first = [index for index in range(min(SEEDED_SUBJECTS, catalogue.subjects)) if not is_review_subject(index)]
    await asyncio.gather(*(first_version(index) for index in first))
    return seeder.log


async def _run(url, writer, reviewer, scale, mix, faults, during) -> LoadRun:
    require_loopback(url)
    limits = httpx.Limits(max_connections=scale.clients + 8, max_keepalive_connections=scale.clients + 8)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        catalogue = Catalogue(subjects=scale.subjects, commons=commons_for(scale.subjects))
        seeded = await seed(http, writer, catalogue)
        started = time.monotonic()
        deadline = started + scale.seconds
        clients = [Client(number, http, writer, reviewer, catalogue, mix, faults) for number in range(scale.clients)]
        faults_injected = asyncio.Event()
        tasks = [asyncio.create_task(client.run(deadline, faults_injected)) for client in clients]
        if during is not None:
            await asyncio.to_thread(during, faults)
        faults_injected.set()
        logs = await asyncio.gather(*tasks)
        return LoadRun(scale=scale, seeding=seeded, logs=logs, seconds=time.monotonic() - started, faults=faults)


def run_in_own_loop(coroutine):
    """asyncio.run on a thread of its own: Playwright's sync API, used by earlier browser tests in the same
    process, keeps an event loop running on the test's thread, where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_load(url: str, writer: Account, reviewer: Account, scale: Scale, *, mix=None, during=None) -> LoadRun:
    """Seed the registry, then run the clients until the deadline; `during(faults)` runs in a thread meanwhile.

    `during` injects faults inside `faults.window(name)` blocks; the load keeps going until its deadline
    whatever `during` does, and at least until `during` returns.
    """
    return run_in_own_loop(_run(url, writer, reviewer, scale, mix or MIX, Faults(), during))
