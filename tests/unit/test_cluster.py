"""cluster/ checked without a cluster: the RayService against KubeRay's CRD, its serveConfigV2
against Ray Serve's schema, serve_config.yaml and the worker groups it runs on, the image's
Dockerfile, and the Grafana dashboard and alert rules against the metrics that exist."""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / "cluster"
CRD = CLUSTER / "crd" / "ray.io_rayservices.yaml"
SHARED_CRD = REPO.parent / "shared" / "kuberay" / "ray.io_rayservices.yaml"


class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML (libyaml where present: the CRD is 1 MB) that refuses a key given twice, as
    kubectl does; PyYAML alone would keep the last one silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        twice = {key for key in keys if keys.count(key) > 1}
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"{twice} twice", node.start_mark)
        return super().construct_mapping(node, deep)


JOB_STATUSES = {"pending", "processing", "completed", "failed", "cancelled"}
# Voxify's metrics as Prometheus stores them (cluster/prometheus/voxify-podmonitor.yaml strips
# Ray's `ray_` prefix): name -> label -> the values a query may match (None: any).
VOXIFY_METRICS: dict[str, dict[str, set[str] | None]] = {
    "voxify_http_requests_total": {"method": None, "route": None, "status": None},
    "voxify_http_request_seconds_bucket": {"method": None, "route": None, "le": None},
    "voxify_syntheses_total": {
        "engine": None,
        "door": {"sync", "stream", "job", "openai", "grpc", "handle"},
        "outcome": {"ok", "error"},
    },
    "voxify_synthesis_audio_seconds_total": {"engine": None, "door": None},
    "voxify_synthesis_rtf_bucket": {"engine": None, "door": None, "le": None},
    "voxify_stream_first_audio_seconds_bucket": {"engine": None, "le": None},
    "voxify_jobs": {"type": None, "status": JOB_STATUSES},
    "voxify_job_transitions_total": {"type": None, "status": JOB_STATUSES},
    "voxify_job_queue_wait_seconds_bucket": {"type": None, "le": None},
    "voxify_job_retries_total": {"type": None},
    "voxify_job_recoveries_total": {"type": None, "outcome": {"requeued", "failed"}},
    "voxify_limit_rejections_total": {
        "limit": {"requests_per_minute", "syntheses_per_day", "uploads_per_day"}
    },
    "voxify_pool_sheds_total": {"pool": None},
}


def _yaml_files() -> list[Path]:
    return sorted(p for p in CLUSTER.rglob("*") if p.suffix in (".yaml", ".yml"))


@functools.cache
def _docs(path: Path) -> list[dict[str, Any]]:
    """The objects in a YAML file, parsed once (tests copy before changing one)."""
    return [d for d in yaml.load_all(path.read_text(), Loader=Loader) if d is not None]


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object in cluster/*.yaml by (kind, name)."""
    found = [((d["kind"], d["metadata"]["name"]), d) for p in _yaml_files() for d in _docs(p)]
    assert len(dict(found)) == len(found), "two objects share a kind and name"
    return dict(found)


@pytest.fixture(scope="module")
def service(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    return objects[("RayService", "voxify")]


@pytest.fixture(scope="module")
def serve_v2(service: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.load(service["spec"]["serveConfigV2"], Loader=Loader)
    return config


@pytest.fixture(scope="module")
def local() -> dict[str, Any]:
    config: dict[str, Any] = yaml.load((REPO / "serve_config.yaml").read_text(), Loader=Loader)
    return config


def _pools(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in config["applications"][0]["deployments"]}


def _max_replicas(pool: dict[str, Any]) -> int:
    scaling = pool.get("autoscaling_config") or {}
    return int(scaling.get("max_replicas", pool.get("num_replicas", 1)))


def _groups(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["groupName"]: g for g in service["spec"]["rayClusterConfig"]["workerGroupSpecs"]}


def _ray_containers(service: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    cluster = service["spec"]["rayClusterConfig"]
    yield "head", cluster["headGroupSpec"]["template"]["spec"]["containers"][0]
    for name, group in _groups(service).items():
        yield name, group["template"]["spec"]["containers"][0]


def _quantity(value: str | int | float) -> float:
    """A Kubernetes quantity ("500m", "8", "16Gi") as a number."""
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value))
    assert match and match[2] in units.keys() | {""}, value
    return float(match[1]) * units.get(match[2], 1.0)


# --- every YAML in cluster/ ----------------------------------------------------------------


def test_every_cluster_yaml_parses_into_named_objects() -> None:
    names = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
    for path in _yaml_files():
        documents = _docs(path)
        assert documents, f"{path} holds no object"
        for doc in documents:
            where = f"{path.relative_to(REPO)}: {doc.get('kind')}"
            assert isinstance(doc.get("apiVersion"), str), f"{where} has no apiVersion"
            assert isinstance(doc.get("kind"), str), f"{where} has no kind"
            assert names.fullmatch(str(doc.get("metadata", {}).get("name"))), f"{where}: name"
            labels = doc["metadata"].get("labels", {})
            assert all(isinstance(v, str) for v in labels.values()), f"{where}: label values"
            if doc["kind"] in ("ConfigMap", "Secret"):
                # Unquoted numbers or booleans here are rejected by the API server.
                values = {**doc.get("data", {}), **doc.get("stringData", {})}
                assert values and all(isinstance(v, str) for v in values.values()), where


def test_every_referenced_configmap_and_secret_is_defined(
    service: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    for group, container in _ray_containers(service):
        refs = {(k, v["name"]) for ref in container["envFrom"] for k, v in ref.items()}
        kinds = {"configMapRef": "ConfigMap", "secretRef": "Secret"}
        assert {(kinds[k], n) for k, n in refs} == {
            ("ConfigMap", "voxify-settings"),
            ("Secret", "voxify-secrets"),
            ("ConfigMap", "voxify-ray-env"),
        }, group
        assert all((kinds[k], n) in objects for k, n in refs)


# --- the RayService against KubeRay's CRD --------------------------------------------------

OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 47},  # KubeRay: RayService names <= 47
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _strict(schema: Any) -> Any:
    """The CRD's schema as the API server applies it with strict field validation: an object
    with declared properties takes no others, except where x-kubernetes-preserve-unknown-fields
    keeps them (KubeRay's schema has none today: this honours it if one appears)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: ({n: _strict(s) for n, s in v.items()} if k == "properties" else _strict(v))
        for k, v in schema.items()
    }
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value < 2**63


@pytest.fixture(scope="module")
def crd_schema(service: dict[str, Any]) -> dict[str, Any]:
    (crd,) = _docs(CRD)
    version = service["apiVersion"].split("/")[1]
    (entry,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    assert entry["served"] and entry["storage"], f"{version} is not KubeRay's stored version"
    schema = _strict(entry["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = OBJECT_META  # the API server checks ObjectMeta itself
    jsonschema.Draft4Validator.check_schema(schema)
    return schema


def _k8s_rules(schema: dict[str, Any], value: Any, path: str) -> Iterator[str]:
    """What JSON Schema leaves out: list-map keys and set items are unique (the API server
    rejects duplicates); a field carrying CEL rules (x-kubernetes-validations) is not set,
    since they cannot be evaluated here."""
    if schema.get("x-kubernetes-validations"):
        yield f"{path}: has CEL rules that this test cannot check"
    if isinstance(value, dict):
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key) or schema.get("additionalProperties")
            if isinstance(sub, dict):
                yield from _k8s_rules(sub, item, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        kind = schema.get("x-kubernetes-list-type")
        if kind == "map":
            fields = schema["x-kubernetes-list-map-keys"]
            keys = [
                tuple(i.get(f, items["properties"][f].get("default")) for f in fields)
                for i in value
            ]
            if len(set(keys)) != len(keys):
                yield f"{path}: duplicate {fields} in {keys}"
        elif kind == "set" and len({json.dumps(i, sort_keys=True) for i in value}) != len(value):
            yield f"{path}: duplicate items"
        for n, item in enumerate(value):
            yield from _k8s_rules(items, item, f"{path}[{n}]")


def _crd_errors(schema: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(schema, format_checker=FORMATS)
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]
    return errors + list(_k8s_rules(schema, manifest, ""))


def test_rayservice_is_valid_for_kuberay(
    crd_schema: dict[str, Any], service: dict[str, Any]
) -> None:
    assert _crd_errors(crd_schema, service) == []


def test_the_crd_check_catches_unknown_fields_wrong_types_and_duplicates(
    crd_schema: dict[str, Any], service: dict[str, Any]
) -> None:
    def errors(path: str, change: Any) -> list[str]:
        manifest = copy.deepcopy(service)
        part = manifest["spec"]["rayClusterConfig"]
        for key in path.split(".") if path else []:
            part = part[int(key)] if key.isdigit() else part[key]
        change(part)
        return _crd_errors(crd_schema, manifest)

    head = "headGroupSpec.template.spec.containers.0"
    assert any("resourcez" in e for e in errors(head, lambda c: c.update(resourcez={})))
    worker = "workerGroupSpecs.0"
    assert any("minReplicas" in e for e in errors(worker, lambda g: g.update(minReplicas="1")))
    serve_port = {"containerPort": 8000}
    assert any("duplicate" in e for e in errors(head, lambda c: c["ports"].append(serve_port)))
    owner = {"managedBy": "ray.io/kuberay-operator"}
    assert any("CEL" in e for e in errors("", lambda c: c.update(owner)))


@pytest.mark.skipif(not SHARED_CRD.exists(), reason="no ../shared/kuberay beside the repo")
def test_crd_copy_is_the_shared_one() -> None:
    assert CRD.read_bytes() == SHARED_CRD.read_bytes()
    assert (CRD.parent / "LICENSE").read_bytes() == (SHARED_CRD.parent / "LICENSE").read_bytes()


# --- serveConfigV2 -------------------------------------------------------------------------

CLUSTER_OWN_AUTOSCALING = {"min_replicas", "initial_replicas", "max_replicas"}
THREAD_KNOBS = {"intra_op_threads", "narrow_sessions"}  # "auto"/0: the node's cores, not the pod's


def test_serve_config_v2_is_a_valid_serve_config(serve_v2: dict[str, Any]) -> None:
    from ray.serve.schema import ServeDeploySchema  # imports Ray's schema, starts nothing

    ServeDeploySchema.model_validate(serve_v2)


def test_serve_config_v2_has_serve_config_yamls_knobs(
    serve_v2: dict[str, Any], local: dict[str, Any]
) -> None:
    for key in ("logging_config", "grpc_options"):
        assert serve_v2.get(key) == local.get(key), key
    for key in ("port", "request_timeout_s"):
        assert serve_v2["http_options"][key] == local["http_options"][key], key
    app, local_app = serve_v2["applications"][0], local["applications"][0]
    for key in ("name", "route_prefix", "import_path"):
        assert app[key] == local_app[key], key
    args = dict(app["args"])
    assert args.pop("environment") == "production"
    assert args == local_app["args"]

    pools, local_pools = _pools(serve_v2), _pools(local)
    assert pools.keys() == local_pools.keys()
    for name, pool in pools.items():
        mine, theirs = copy.deepcopy(pool), copy.deepcopy(local_pools[name])
        options, local_options = mine.pop("ray_actor_options"), theirs.pop("ray_actor_options")
        # The GPU share is measured (replicas per GPU); CPUs and placement are the cluster's.
        assert options.get("num_gpus") == local_options.get("num_gpus"), name
        for own in ("num_cpus", "label_selector", "num_gpus"):
            options.pop(own, None)
            local_options.pop(own, None)
        assert options == local_options, name
        user, local_user = mine.pop("user_config", {}), theirs.pop("user_config", {})
        assert user.keys() == local_user.keys(), name
        for knob, value in user.items():
            if knob in THREAD_KNOBS:
                cpus = pool["ray_actor_options"]["num_cpus"]
                assert isinstance(value, int) and 1 <= value <= cpus, (name, knob)
            else:
                assert value == local_user[knob], (name, knob)
        scaling = mine.pop("autoscaling_config", None)
        local_scaling = theirs.pop("autoscaling_config", None)
        if scaling and local_scaling:
            assert scaling.keys() == local_scaling.keys(), name
            for knob in scaling.keys() - CLUSTER_OWN_AUTOSCALING:
                assert scaling[knob] == local_scaling[knob], (name, knob)
        mine.pop("num_replicas", None)
        theirs.pop("num_replicas", None)
        assert mine == theirs, name  # max_ongoing_requests, max_queued_requests, the rest


def test_grpc_servicer_functions_exist(serve_v2: dict[str, Any]) -> None:
    for path in (serve_v2.get("grpc_options") or {}).get("grpc_servicer_functions", []):
        module, function = path.rsplit(".", 1)
        source = REPO / (module.replace(".", "/") + ".py")
        assert f"def {function}(" in source.read_text(), path


@pytest.mark.parametrize("which", ["cluster", "local"])
def test_ingress_admits_a_full_batch_from_every_replica(
    which: str, serve_v2: dict[str, Any], local: dict[str, Any]
) -> None:
    pools = _pools(serve_v2 if which == "cluster" else local)
    ingress = pools.pop("Ingress")["max_ongoing_requests"]
    for name, pool in pools.items():
        batch = (pool.get("user_config") or {}).get("max_batch_size", 1)
        assert ingress >= batch * _max_replicas(pool), name  # DESIGN.md


def test_pools_land_on_and_fit_their_worker_groups(
    service: dict[str, Any], serve_v2: dict[str, Any]
) -> None:
    cluster = service["spec"]["rayClusterConfig"]
    # Scaling a group up for a pending replica's label selector takes autoscaler v2.
    assert cluster["enableInTreeAutoscaling"] and cluster["autoscalerOptions"]["version"] == "v2"
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"
    assert "labels" not in cluster["headGroupSpec"]
    groups = _groups(service)
    pod: dict[str, tuple[float, float]] = {}  # group -> (CPUs, GPUs) Ray sees in one pod
    used = {name: [0.0, 0.0] for name in groups}  # group -> (CPUs, GPUs) of all pools at max
    for name, group in groups.items():
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"], name
        limits = group["template"]["spec"]["containers"][0]["resources"]["limits"]
        cpus = _quantity(group["rayStartParams"].get("num-cpus", limits["cpu"]))
        pod[name] = (cpus, _quantity(limits.get("nvidia.com/gpu", 0)))
    used["cpu"][0] += serve_v2["applications"][0]["args"]["job_task_num_cpus"]  # one job
    for name, pool in _pools(serve_v2).items():
        options = pool["ray_actor_options"]
        selector = options.get("label_selector")
        assert selector, f"{name} has no label_selector: it could land on any group"
        (where,) = [
            g for g, spec in groups.items() if selector.items() <= spec.get("labels", {}).items()
        ]
        cpus, gpus = options.get("num_cpus", 1), options.get("num_gpus", 0)
        assert cpus <= pod[where][0] and gpus <= pod[where][1], f"{name} does not fit {where}"
        assert (gpus > 0) == (pod[where][1] > 0), f"{name} on {where}: GPU pools on GPU pods"
        used[where][0] += cpus * _max_replicas(pool)
        used[where][1] += gpus * _max_replicas(pool)
    for name, group in groups.items():
        # Every pool at its max_replicas fits the group at maxReplicas: no replica waits forever.
        assert used[name][0] <= pod[name][0] * group["maxReplicas"], name
        assert used[name][1] <= pod[name][1] * group["maxReplicas"], name


# --- pods: resources, probes, GPUs, settings -----------------------------------------------


def test_ray_containers_request_what_they_use(service: dict[str, Any]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for group, container in _ray_containers(service):
        resources = container["resources"]
        assert resources["requests"] == resources["limits"], group  # Ray counts the limits
        assert {"cpu", "memory"} <= resources["limits"].keys(), group
        assert container["image"].rsplit(":", 1)[1] == version, group
        assert {"serve", "metrics"} <= {p["name"] for p in container["ports"]}, group
    gpu = _groups(service)["gpu"]["template"]["spec"]
    assert gpu["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert gpu["nodeSelector"] and any(t["key"] == "nvidia.com/gpu" for t in gpu["tolerations"])
    cpu = _groups(service)["cpu"]["template"]["spec"]
    assert "nvidia.com/gpu" not in cpu["containers"][0]["resources"]["limits"]


def test_probes_are_kuberays(service: dict[str, Any], serve_v2: dict[str, Any]) -> None:
    raylet, gcs = ":52365/api/local_raylet_healthz", ":8265/api/gcs_healthz"
    proxy = f":{serve_v2['http_options']['port']}/-/healthz"
    for group, container in _ray_containers(service):
        ready = " ".join(container["readinessProbe"]["exec"]["command"])
        alive = " ".join(container["livenessProbe"]["exec"]["command"])
        serve_port = {p["name"]: p["containerPort"] for p in container["ports"]}["serve"]
        assert serve_port == serve_v2["http_options"]["port"], group
        assert raylet in ready and raylet in alive, group
        assert "/api/v1/health" not in ready + alive  # app health is not Ray node health
        if group == "head":  # the head's proxy is checked by KubeRay, not by its probe
            assert gcs in ready and gcs in alive and proxy not in ready
        else:  # a worker takes traffic once its proxy is up; only the raylet keeps it alive
            assert proxy in ready and proxy not in alive, group


def test_settings_come_from_the_configmap_and_secret(
    service: dict[str, Any],
    serve_v2: dict[str, Any],
    objects: dict[tuple[str, str], dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voxify.config import Settings

    public = objects[("ConfigMap", "voxify-settings")]["data"]
    secret = objects[("Secret", "voxify-secrets")]["stringData"]
    assert {"VOXIFY_DATABASE_URL", "VOXIFY_JWT_SECRET", "AWS_SECRET_ACCESS_KEY"} <= secret.keys()
    assert not any(re.search("SECRET|PASSWORD|DATABASE_URL", key) for key in public)
    for key in [k for k in os.environ if k.startswith("VOXIFY_")]:
        monkeypatch.delenv(key)
    for key, value in {**public, **secret}.items():
        if key.startswith("VOXIFY_"):
            assert key[7:].lower() in Settings.model_fields, f"{key} is no Settings field"
        monkeypatch.setenv(key, value)
    settings = Settings(**serve_v2["applications"][0]["args"])  # as build_app builds it
    assert settings.environment == "production"
    assert settings.database_url.startswith("postgresql")
    assert settings.blob_url.startswith("s3://")
    assert settings.vector_url.startswith("http")
    mounts = _groups(service)["gpu"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert str(settings.xtts_model_dir) in {m["mountPath"] for m in mounts}


def test_ray_env_is_voxify_serves(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    from deployments.run import SERVE_ENV  # plain Python: imports Ray only inside main()

    assert objects[("ConfigMap", "voxify-ray-env")]["data"] == SERVE_ENV


# --- the image ------------------------------------------------------------------------------


def _instructions() -> list[str]:
    text = (CLUSTER / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _pins(path: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)", path.read_text(), re.M)
    return {name.lower(): version for name, version in pins}


def test_dockerfile_builds_the_pinned_set(service: dict[str, Any]) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    ray_pin = next(d for d in project["dependencies"] if d.startswith("ray["))
    pins = _pins(REPO / "constraints.txt")
    steps = _instructions()
    base = re.fullmatch(r"FROM rayproject/ray:(\d+\.\d+\.\d+)-py(\d)(\d+)(-gpu)?", steps[0])
    assert base, steps[0]
    ray_version = service["spec"]["rayClusterConfig"]["rayVersion"]
    assert base[1] == ray_pin.split("==")[1] == pins["ray"] == ray_version
    assert f">={base[2]}.{base[3]}" in project["requires-python"]
    # The Ray image runs as `ray`: what it builds in (pip's in-tree build, `voxify setup`'s
    # Kokoro directory) must be its own, not a root-owned WORKDIR or COPY.
    assert next(s for s in steps if s.startswith("WORKDIR")).split()[1].startswith("/home/ray/")
    assert all("--chown=ray:" in s for s in steps if s.startswith("COPY"))
    copied = " ".join(s for s in steps if s.startswith("COPY"))
    for needed in ("pyproject.toml", "constraints.txt", "README.md", "voxify", "deployments"):
        assert re.search(rf"\s{needed}\s", copied + " "), needed
    commands = [c for s in steps if s.startswith("RUN") for c in s[3:].split("&&")]
    installs = [c.split() for c in commands if "pip install" in c]
    assert installs
    for words in installs:
        assert "-c" in words and words[words.index("-c") + 1] == "constraints.txt", words
        del words[words.index("-c") + 1]
        named = [w.strip("\"'") for w in words[2:] if not w.startswith("-") and w != "."]
        for package in named:  # anything installed by name is pinned in constraints.txt
            assert re.split(r"[\[=<>]", package)[0].lower() in pins, package
    env = next(n for n, s in enumerate(steps) if s.startswith("ENV VOXIFY_KOKORO_DIR="))
    assert steps.index("RUN voxify setup") > env


def test_dockerignore_keeps_the_build_inputs() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".git", ".venv", "data"} <= ignored
    inputs = {"voxify", "deployments", "pyproject.toml", "constraints.txt", "README.md"}
    assert not ignored & (inputs | {"*"})


def test_image_needs_no_system_audio_libraries() -> None:
    """What the Dockerfile leaves out of apt is inside the wheels it installs."""
    import av

    def package_dir(name: str) -> Path:
        spec = importlib.util.find_spec(name)
        assert spec and spec.origin, name
        return Path(spec.origin).parent

    piper = package_dir("piper")
    assert (piper / "espeak-ng-data").is_dir() and list(piper.glob("espeakbridge*.so"))
    assert {"aac", "libopus", "libmp3lame"} <= set(av.codecs_available)
    assert list(package_dir("_soundfile_data").glob("libsndfile*.so"))


# --- observability: dashboard, alerts, scraping -------------------------------------------

SUFFIXES = {"Counter": ["_total"], "Gauge": [""], "Histogram": ["_bucket", "_sum", "_count"]}


@functools.cache
def _ray_serve_metrics() -> set[str]:
    """The ray_serve_* series Ray exports, read from the installed Ray's source (not run)."""
    spec = importlib.util.find_spec("ray")
    assert spec and spec.submodule_search_locations
    definition = re.compile(r"\b(Counter|Gauge|Histogram)\(\s*(?:name\s*=\s*)?\"(serve_\w+)\"")
    found = set()
    for path in (Path(spec.submodule_search_locations[0]) / "serve").rglob("*.py"):
        for kind, name in definition.findall(path.read_text()):
            found |= {f"ray_{name}{suffix}" for suffix in SUFFIXES[kind]}
    assert "ray_serve_deployment_queued_queries" in found  # the scan itself works
    return found


def _promql(expr: str) -> tuple[dict[str, set[tuple[str, str, str]]], set[str]]:
    """Metric names in ``expr`` with their label matchers, and every label it groups by."""
    text = re.sub(r"\$\{?\w+\}?", "5m", expr)  # Grafana variables ($__rate_interval)
    grouped = {
        label.strip()
        for match in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", text)
        for label in match.split(",")
        if label.strip()
    }
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    metrics: dict[str, set[tuple[str, str, str]]] = {}
    for found in re.finditer(r"([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?", text):
        name, matchers = found[1], found[2] or ""
        if name in {"and", "or", "unless", "bool", "offset"}:
            continue
        if not matchers and text[found.end() :].lstrip().startswith("("):
            continue  # a function
        pairs = re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', matchers)
        metrics.setdefault(name, set()).update(pairs)
    return metrics, grouped


def _check_promql(expr: str, ray_serve: set[str], pools: set[str]) -> None:
    metrics, grouped = _promql(expr)
    assert metrics, f"no metric in {expr}"
    known_labels = {"le"}
    for name, matchers in metrics.items():
        if name.startswith("ray_serve_"):
            assert name in ray_serve, f"{name} is not a metric this Ray exports"
            for label, op, value in matchers:
                if label == "deployment" and op in ("=", "=~"):
                    assert set(value.split("|")) <= pools, value
            known_labels = known_labels | {"application", "deployment", "replica", "route"}
            continue
        if name == "up":
            known_labels = known_labels | {"job", "instance", "pod"}
            continue
        assert name in VOXIFY_METRICS, f"{name} is not a Voxify metric (in {expr})"
        labels = VOXIFY_METRICS[name]
        known_labels = known_labels | labels.keys()
        for label, op, value in matchers:
            assert label in labels, f"{name} has no label {label}"
            allowed = labels[label]
            if allowed is not None and op in ("=", "=~") and re.fullmatch(r"[\w|]+", value):
                assert set(value.split("|")) <= allowed, f"{name}{{{label}}}: {value}"
    assert grouped <= known_labels, f"grouping by {grouped - known_labels} in {expr}"
    for quantile in re.findall(r"histogram_quantile\([^,]+,(.*)", expr, re.S):
        assert "_bucket" in quantile and re.search(r"\ble\b", quantile), expr


def test_dashboard_queries_use_real_metrics(serve_v2: dict[str, Any]) -> None:
    dashboard = json.loads((CLUSTER / "grafana" / "voxify-dashboard.json").read_text())
    assert dashboard["title"] and dashboard["uid"]
    assert "datasource" in {v["name"] for v in dashboard["templating"]["list"]}
    ray_serve, pools = _ray_serve_metrics(), set(_pools(serve_v2))
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    assert all(p["targets"] for p in panels)
    for expr in exprs:
        _check_promql(expr, ray_serve, pools)
    used = {name for expr in exprs for name in _promql(expr)[0]}
    assert used >= VOXIFY_METRICS.keys(), f"no panel for {VOXIFY_METRICS.keys() - used}"
    assert any(name.startswith("ray_serve_") for name in used)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def _rules() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    (doc,) = _docs(CLUSTER / "prometheus" / "voxify-alerts.yaml")
    return doc, [rule for group in doc["spec"]["groups"] for rule in group["rules"]]


def test_alert_rules_are_complete(serve_v2: dict[str, Any]) -> None:
    doc, rules = _rules()
    assert (doc["apiVersion"], doc["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    ray_serve, pools = _ray_serve_metrics(), set(_pools(serve_v2))
    for rule in rules:
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        _check_promql(rule["expr"], ray_serve, pools)
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    wanted = {"JobsStuck", "HighErrorRate", "LoadShedding", "HighLatency", "NoIngress"}
    assert {f"Voxify{name}" for name in wanted} <= set(names)


# `promtool test rules` cases: each alert fires on the series it is meant to catch (evaluated
# at 30 minutes) and stays quiet on a near miss.
ALERT_CASES = """
- alert: VoxifyJobsStuck
  fires:
    series:
      voxify_jobs{type="synthesis",status="pending"}: 3x40
      voxify_job_transitions_total{type="synthesis",status="completed"}: 5x40
    labels: {type: synthesis}
    summary: "synthesis jobs are stuck: 3 pending or processing, none completed for 15 minutes"
  quiet:
    voxify_jobs{type="synthesis",status="pending"}: 3x40
    voxify_job_transitions_total{type="synthesis",status="completed"}: 0+1x40
- alert: VoxifyHighErrorRate
  fires:
    series:
      voxify_http_requests_total{route="/api/v1/tts/synthesize",status="200"}: 0+100x40
      voxify_http_requests_total{route="/api/v1/tts/synthesize",status="500"}: 0+10x40
    summary: "9.091% of Voxify's HTTP responses are 5xx"
  quiet:
    voxify_http_requests_total{route="/api/v1/tts/synthesize",status="200"}: 0+100x40
    voxify_http_requests_total{route="/api/v1/tts/synthesize",status="503"}: 0+2x40
- alert: VoxifyLoadShedding
  fires:
    series:
      voxify_syntheses_total{engine="piper",door="sync",outcome="ok"}: 0+100x40
      voxify_pool_sheds_total{pool="Synthesizer"}: 0+5x40
    summary: "4.762% of syntheses are turned away (pool queue full)"
  quiet:
    voxify_syntheses_total{engine="piper",door="sync",outcome="ok"}: 0+1000x40
    voxify_pool_sheds_total{pool="Synthesizer"}: 0+5x40
- alert: VoxifyHighLatency
  fires:
    series:
      voxify_http_request_seconds_bucket{route="/api/v1/tts/synthesize",le="1"}: 0x40
      voxify_http_request_seconds_bucket{route="/api/v1/tts/synthesize",le="5"}: 0x40
      voxify_http_request_seconds_bucket{route="/api/v1/tts/synthesize",le="30"}: 0+10x40
      voxify_http_request_seconds_bucket{route="/api/v1/tts/synthesize",le="+Inf"}: 0+10x40
    labels: {route: /api/v1/tts/synthesize}
    summary: "p95 latency of /api/v1/tts/synthesize is 28.5s"
  quiet:
    voxify_http_request_seconds_bucket{route="/api/v1/tts/stream",le="5"}: 0x40
    voxify_http_request_seconds_bucket{route="/api/v1/tts/stream",le="30"}: 0+10x40
    voxify_http_request_seconds_bucket{route="/api/v1/tts/stream",le="+Inf"}: 0+10x40
- alert: VoxifyNoIngress
  fires:
    series:
      ray_serve_deployment_replica_healthy{application="voxify",deployment="Ingress"}: 2x5 0x40
    summary: "No healthy Voxify Ingress replica: the API is down"
  quiet:
    ray_serve_deployment_replica_healthy{application="voxify",deployment="Ingress"}: 2x40
"""


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_queries_and_the_alerts_fire(tmp_path: Path) -> None:
    rules = {r["alert"]: r for r in _rules()[1]}
    dashboard = json.loads((CLUSTER / "grafana" / "voxify-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    recorded = [  # the dashboard's queries, parsed by promtool as recording rules
        {"record": f"dashboard:query{n}", "expr": e.replace("$__rate_interval", "5m")}
        for n, e in enumerate(exprs)
    ]
    groups = [*_rules()[0]["spec"]["groups"], {"name": "dashboard", "rules": recorded}]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    tests = []
    cases = yaml.safe_load(ALERT_CASES)
    assert {case["alert"] for case in cases} == rules.keys()
    for case in cases:
        rule, fires = rules[case["alert"]], case["fires"]
        expected = {
            "exp_labels": {**fires.get("labels", {}), **rule["labels"]},
            "exp_annotations": {**rule["annotations"], "summary": fires["summary"]},
        }
        for series, alerts in ((fires["series"], [expected]), (case["quiet"], [])):
            tests.append(
                {
                    "interval": "1m",
                    "input_series": [{"series": k, "values": v} for k, v in series.items()],
                    "alert_rule_test": [
                        {"eval_time": "30m", "alertname": case["alert"], "exp_alerts": alerts}
                    ],
                }
            )
    suite = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(suite))
    for command in (["check", "rules", "rules.yaml"], ["test", "rules", "tests.yaml"]):
        run = subprocess.run(["promtool", *command], cwd=tmp_path, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_podmonitor_scrapes_every_ray_pod_under_the_names_queried(
    service: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    monitor = objects[("PodMonitor", "voxify-ray")]["spec"]
    (endpoint,) = monitor["podMetricsEndpoints"]
    wanted = monitor["selector"]["matchLabels"].items() - {("ray.io/is-ray-node", "yes")}
    cluster = service["spec"]["rayClusterConfig"]
    templates = [cluster["headGroupSpec"]["template"]] + [
        g["template"] for g in cluster["workerGroupSpecs"]
    ]
    for template in templates:
        assert wanted <= template["metadata"]["labels"].items()
        assert endpoint["port"] in {p["name"] for p in template["spec"]["containers"][0]["ports"]}
    (relabel,) = endpoint["metricRelabelings"]
    assert relabel["sourceLabels"] == ["__name__"] and relabel["targetLabel"] == "__name__"
    anchored, replacement = f"^(?:{relabel['regex']})$", relabel["replacement"].replace("$", "\\")
    for name in VOXIFY_METRICS:  # Prometheus anchors the regex; $1 is Python's \1
        assert re.sub(anchored, replacement, f"ray_{name}") == name
    assert re.fullmatch(relabel["regex"], "ray_serve_deployment_queued_queries") is None


def test_voxify_metrics_are_the_ones_the_code_defines() -> None:
    """The names and labels above against voxify/observability (once it defines them all)."""
    metrics = pytest.importorskip("voxify.observability.metrics")
    defined = {
        m.name + {"counter": "_total", "histogram": "_bucket"}.get(m.kind, ""): set(m.labels)
        for m in vars(metrics).values()
        if hasattr(m, "kind") and hasattr(m, "labels") and isinstance(getattr(m, "name", None), str)
    }
    if not {"voxify_http_requests_total", "voxify_http_request_seconds_bucket"} <= defined.keys():
        pytest.skip("voxify/observability does not define the HTTP metrics yet")
    for name, labels in VOXIFY_METRICS.items():
        assert name in defined, name
        assert labels.keys() - {"le"} == defined[name], name
