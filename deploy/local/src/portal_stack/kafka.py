"""A single-node Apache Kafka 4.x broker (KRaft, loopback only) run from Maven jars."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import logging
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

from portal_stack._proc import port_is_free, port_open, spawn, stop_process, tail, wait_ready
from portal_stack.errors import InfraError

KAFKA_VERSION = "4.4.0"
INSTALL_HINT = "install them with `apt-get install maven openjdk-17-jre-headless`"
log = logging.getLogger(__name__)


def pom_path() -> Path:
    """The pom.xml pinning the Kafka jars (packaged copy first, then the source tree's)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "kafka-pom.xml", here.parents[1] / "kafka" / "pom.xml"):
        if candidate.is_file():
            return candidate
    raise InfraError(f"kafka pom.xml not found next to {here}; reinstall portal-stack")


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise InfraError(
            f"Kafka needs {' and '.join(missing)} on PATH, which {'is' if len(missing) == 1 else 'are'} "
            f"missing; {INSTALL_HINT} (or point PORTAL_KAFKA_BOOTSTRAP_SERVERS at a running broker)"
        )


def ensure_jars(cache_dir: Path, version: str = KAFKA_VERSION) -> Path:
    """Download Kafka's jars with Maven once; returns the libs directory."""
    libs = Path(cache_dir) / f"kafka-{version}" / "libs"
    marker = libs.parent / ".complete"
    if marker.is_file() and any(libs.glob("kafka_2.13-*.jar")):
        return libs
    require_tools("mvn", "java")
    libs.mkdir(parents=True, exist_ok=True)
    with open(libs.parent / ".lock", "w") as lock:  # several processes may share the cache
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.is_file():
            _fetch(libs, version)
            marker.write_text(version + "\n")
    return libs


def _fetch(libs: Path, version: str) -> None:
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(pom_path()),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}",
        f"-Dkafka.version={version}",
    ]
    log.info("fetching Kafka %s jars: %s", version, " ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        out = (result.stdout + result.stderr)[-3000:]
        raise InfraError(
            f"could not fetch the Kafka {version} jars with Maven (exit {result.returncode}); "
            f"Maven Central must be reachable (or set PORTAL_KAFKA_BOOTSTRAP_SERVERS to a running "
            f"broker). Command: {' '.join(cmd)}\n{out}"
        )


def _cluster_id() -> str:
    """Kafka's own form (URL-safe base64 of a UUID): one id in 64 starts with `-`, which is why
    `_format` passes it as `--cluster-id=<id>` and never as a separate argument."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


# The JVM of a local broker (a developer's stack, the tests' brokers): the client compiler only and
# the serial collector. Measured here (2 cores) from start to ready and 20 s idle: 4.8 s and 1.0 s
# of CPU with the JVM's defaults, 2.8 s and 0.7 s with these, and the storage format 1.8 s -> 1.1 s;
# the test command starts a dozen brokers and formats as many. A broker that is measured (./portal bench) keeps the
# defaults (FULL_JIT): its figures are compared with clients' on the same broker.
LIGHT_JVM = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
FULL_JIT: tuple[str, ...] = ()


class KafkaServer:
    """One KRaft node that is both broker and controller, listening on 127.0.0.1."""

    def __init__(
        self,
        data_dir: Path,
        port: int = 19092,
        controller_port: int = 19093,
        cache_dir: Path | None = None,
        start_timeout: float = 120.0,
        hint: str = "more time with start_timeout",
        jvm_options: tuple[str, ...] = LIGHT_JVM,
    ) -> None:
        """`hint` says how to give it more time than `start_timeout` seconds (in the error)."""
        self.jvm_options = jvm_options
        self.data_dir = Path(data_dir)
        self.port = port
        self.controller_port = controller_port
        self.cache_dir = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "portal"
        self.start_timeout = start_timeout
        self.hint = hint
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "kafka.log"
        self.server_log_path = self.data_dir / "server.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        logs = self.data_dir / "logs"
        props = self.data_dir / "server.properties"
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    "inter.broker.listener.name=PLAINTEXT",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"log.dirs={logs}",
                    "offsets.topic.replication.factor=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "num.partitions=3",
                    "",
                ]
            )
        )
        log4j = self.data_dir / "log4j2.properties"
        log4j.write_text(
            "\n".join(
                [
                    "status = warn",
                    "appender.file.type = File",
                    "appender.file.name = FILE",
                    f"appender.file.fileName = {self.server_log_path}",
                    "appender.file.layout.type = PatternLayout",
                    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.file.ref = FILE",
                    "logger.kafka.name = kafka",
                    "logger.kafka.level = INFO",
                    "logger.apache.name = org.apache.kafka",
                    "logger.apache.level = INFO",
                    "",
                ]
            )
        )
        return props

    def _java(self, libs: Path, main: str, *args: str, heap: bool = False) -> list[str]:
        opts = ["-Xms256m", "-Xmx512m"] if heap else []
        return [
            "java",
            *self.jvm_options,
            *opts,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            str(libs / "*"),
            main,
            *args,
        ]

    def _format(self, libs: Path, props: Path) -> None:
        if (self.data_dir / "logs" / "meta.properties").is_file():
            return  # already formatted: keep the data
        id_file = self.data_dir / "cluster.id"
        if not id_file.is_file():
            id_file.write_text(_cluster_id() + "\n")
        cmd = self._java(
            libs,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            f"--cluster-id={id_file.read_text().strip()}",
            "-c",
            str(props),
        )
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=self.data_dir)
        if result.returncode != 0:
            raise InfraError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")

    async def start(self) -> None:
        for port in (self.port, self.controller_port):
            if not port_is_free(port):
                raise InfraError(
                    f"cannot start Kafka: port {port} on 127.0.0.1 is in use "
                    "(stop what uses it or set PORTAL_KAFKA_BOOTSTRAP_SERVERS)"
                )
        require_tools("java")
        libs = await asyncio.to_thread(ensure_jars, self.cache_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self._write_config()
        await asyncio.to_thread(self._format, libs, props)
        self.proc = spawn(
            self._java(libs, "kafka.Kafka", str(props), heap=True), log_path=self.log_path, cwd=self.data_dir
        )
        await wait_ready(
            self.proc, self._ready, timeout=self.start_timeout, interval=0.5, stop=self.stop, failure=self._failed
        )

    async def _ready(self) -> bool:
        return port_open("127.0.0.1", self.port) and await fetch_metadata(self.bootstrap)

    def _failed(self, state: str) -> InfraError:
        return InfraError(
            f"Kafka {state} within {self.start_timeout:.0f}s ({self.hint}; log {self.log_path}):\n"
            f"{tail(self.log_path)}\n--- server.log ---\n{tail(self.server_log_path)}"
        )

    async def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a controlled shutdown), then SIGKILL after `timeout` seconds."""
        await stop_process(self.proc, signal.SIGTERM, timeout=timeout)
        self.proc = None


async def fetch_metadata(bootstrap: str, timeout: float = 5.0) -> bool:
    """True when a client can connect to `bootstrap` and read cluster metadata."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.describe_cluster(), timeout)
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def create_topics(bootstrap: str, topics: dict[str, int]) -> None:
    """Create topics with explicit partition counts (replication 1); existing ones are kept."""
    if not topics:
        return
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [
            NewTopic(name=name, num_partitions=int(parts), replication_factor=1)
            for name, parts in topics.items()
            if name not in existing
        ]
        if not new:
            return
        response = await admin.create_topics(new)
        errors = [
            (name, code, msg)
            for name, code, *rest in response.topic_errors
            for msg in [rest[0] if rest else ""]
            if code not in (0, 36)
        ]  # 36: already exists
        if errors:
            raise InfraError(f"creating Kafka topics failed: {errors}")
        # The controller answers before every broker's metadata has the topic: wait until it
        # does, so that callers can use the topics at once.
        names = [t.name for t in new]
        for _ in range(100):
            described = await admin.describe_topics(names)
            if all(d["error_code"] == 0 and d["partitions"] for d in described):
                return
            await asyncio.sleep(0.1)
        raise InfraError(f"Kafka topics {names} were created but do not show in metadata after 10 s")
    finally:
        await admin.close()
