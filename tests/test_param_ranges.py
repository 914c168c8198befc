"""Validation without gaps: every analysis parameter and every numeric train / evaluate key has a declared
range, and a value outside it stops the configuration with one message naming the full key.

The cases are enumerated from the registry and the schema (not a hand-picked list), so a new parameter
or key is covered as soon as it exists.  Also: the emission width against the network's outputs, and
the CLI's one-line errors for a malformed ``--params`` or ``--threads``.
"""

from __future__ import annotations

import copy
import logging
import math

import pytest
import yaml

from conftest import REPO, copy_repo, snakemake
from rnnhmm import cli
from rnnhmm.config import ConfigError, load_schema, validate
from rnnhmm.dynamics import registry
from rnnhmm.plan import analyses as declared
from rnnhmm.plan import params as ranges
from rnnhmm.plan.params import ParamError, Range

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
P = ["presets", "smoke"]


def smoke_config() -> dict:
    cfg = copy.deepcopy(CONFIG)
    cfg["preset"] = "smoke"
    return cfg


def set_key(cfg: dict, path: list, value) -> None:
    d = cfg
    for k in path[:-1]:
        if isinstance(k, str) and k not in d:
            d[k] = {}
        d = d[k]
    d[path[-1]] = value


# ---------------------------------------------------------------------- out-of-range values from a range
def bad_numbers(r: Range) -> list:
    """Values just outside each bound of a numeric range."""
    out = []
    step = 1 if r.kind == "integer" else 0.5
    cast = int if r.kind == "integer" else float
    if r.low is not None:
        out.append(cast(r.low) if r.low_open else cast(r.low) - step)
    if r.high is not None:
        out.append(cast(r.high) if r.high_open else cast(r.high) + step)
    return out


def bad_values(r: Range) -> list:
    """Values outside ``r``: beyond a bound, an unknown string, a list with a bad element or too short."""
    if r.kind in ("integer", "real"):
        return bad_numbers(r)
    if r.kind == "string":
        return ["no such option!"]
    bad = [[v] * max(r.min_len, 1) for v in bad_values(r.item)]
    if r.min_len > 0:
        bad.append([])
    return bad


def declared_params():
    """(analysis, parameter, range) for every non-boolean parameter of every registered analysis."""
    for name, a in registry.analyses().items():
        for k, d in a.defaults.items():
            if not isinstance(d, bool):
                yield name, k, ranges.param_range(name, k)


ANALYSIS_CASES = [(name, k, v) for name, k, r in declared_params() for v in bad_values(r)]


def test_every_parameter_of_every_analysis_is_enumerated():
    params = list(declared_params())
    assert {n for n, _, _ in params} == set(registry.analyses())
    assert len(params) == sum(sum(not isinstance(d, bool) for d in a.defaults.values())
                              for a in registry.analyses().values())
    for name, k, r in params:
        assert r is not None, (name, k)
        assert bad_values(r), f"{name}.{k}: {r.describe()} has no value outside it (a range without bounds)"
    assert {(n, k) for n, k, _ in ANALYSIS_CASES} == {(n, k) for n, k, _ in params}


def test_every_default_is_inside_its_range():
    for name, k, r in declared_params():
        d = registry.analyses()[name].defaults[k]
        assert r.contains(d), f"{name}.{k} = {d!r}; allowed: {r.describe()}"
    for name in registry.analyses():
        registry.check_params(name, {})  # the cross-parameter rules hold for the defaults too


def test_no_stale_ranges():
    used = {k for a in registry.analyses().values() for k in a.defaults}
    assert set(ranges.PARAM_RANGES) <= used, set(ranges.PARAM_RANGES) - used
    for name, k in ranges.RANGE_OVERRIDES:
        assert k in registry.get(name).defaults, (name, k)


@pytest.mark.parametrize("preset", sorted(CONFIG["presets"]))
def test_every_preset_validates(preset):
    cfg = copy.deepcopy(CONFIG)
    cfg["preset"] = preset
    validate(cfg)


@pytest.mark.parametrize("name, param, value", ANALYSIS_CASES,
                         ids=[f"{n}.{k}={v!r}" for n, k, v in ANALYSIS_CASES])
def test_an_out_of_range_analysis_parameter_names_the_key(name, param, value):
    cfg = smoke_config()
    set_key(cfg, [*P, "analysis", name, param], value)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    msg = str(info.value)
    assert f"config key 'presets.smoke.analysis.{name}.{param}'" in msg, msg
    assert "out of range" in msg or "not allowed" in msg, msg
    assert "allowed: " in msg and "\n" not in msg, msg


def test_the_message_names_the_parameter_value_and_range():
    with pytest.raises(ParamError, match=r"^parameter 'max_steps' of analysis 'residency' = -3 is out of range; "
                                         r"allowed: integer >= 1$"):
        registry.check_params("residency", {"max_steps": -3})
    with pytest.raises(ParamError, match=r"'control' of analysis 'ablation' = 'both' is not allowed; "
                                         r"allowed: one of 'authors', 'random'$"):
        registry.check_params("ablation", {"control": "both"})
    with pytest.raises(ParamError, match=r"'levels' .* allowed: list of at least 1 real in \(0, 1\)$"):
        registry.check_params("orbits", {"levels": [0.05, 1.0]})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, "3"])
def test_non_finite_booleans_and_strings_are_not_numbers(value):
    with pytest.raises(ParamError):
        registry.check_params("residency", {"sigma": value} if not isinstance(value, str) else {"max_steps": value})


@pytest.mark.parametrize("name, left, op, right", ranges.CROSS_CHECKS)
def test_cross_parameter_rules(name, left, op, right):
    cfg = smoke_config()
    merged = registry.check_params(name, cfg["presets"]["smoke"]["analysis"].get(name, {}))
    value = merged[right] + (1 if op == "<=" else 0)
    assert ranges.param_range(name, left).contains(value)  # in its own range: only the rule can fail
    set_key(cfg, [*P, "analysis", name, left], value)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    msg = str(info.value)
    assert f"config key 'presets.smoke.analysis.{name}.{left}'" in msg and "out of range" in msg, msg
    assert f"allowed: {op} {right}" in msg, msg


def test_an_override_takes_precedence_over_the_shared_range(monkeypatch):
    monkeypatch.setitem(ranges.RANGE_OVERRIDES, ("residency", "max_steps"), ranges.integer(100))
    assert registry.check_params("residency", {"max_steps": 200})["max_steps"] == 200
    with pytest.raises(ParamError, match="allowed: integer >= 100"):
        registry.check_params("residency", {"max_steps": 60})
    assert registry.check_params("compositional", {"max_steps": 60})["max_steps"] == 60


# ---------------------------------------------------------------------- discovery fails loudly
def test_a_parameter_without_a_range_fails_discovery(monkeypatch):
    def check(defaults):
        ranges.check_declared("fake", "dynamics/fake.py", defaults)

    with pytest.raises(RuntimeError, match="'brand_new' .* has no declared range"):
        check({"warmup": 10, "brand_new": 3})
    with pytest.raises(RuntimeError, match="outside its declared range"):
        check({"warmup": 0})
    with pytest.raises(RuntimeError, match="is a float but its declared range is integer"):
        check({"warmup": 10.0})
    check({"warmup": 10, "exhaustive": True})  # booleans need no range

    without = {k: v for k, v in ranges.PARAM_RANGES.items() if k != "k_pop"}
    monkeypatch.setattr(ranges, "PARAM_RANGES", without)
    declared.specs.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="analysis 'connectivity' .* parameter 'k_pop' .* no declared range"):
            declared.specs()
    finally:
        monkeypatch.undo()
        declared.specs.cache_clear()


def test_the_declarations_read_without_importing_equal_the_modules():
    """rnnhmm.plan.analyses reads DEFAULTS and ANALYSIS with ast; the imported objects agree."""
    for name, a in registry.analyses().items():
        assert a.spec == declared.specs()[name], name
        assert a.module_file == declared.specs()[name].module_file


def test_a_non_literal_declaration_is_refused(tmp_path):
    bad = tmp_path / "fake.py"
    bad.write_text("DEFAULTS = {'warmup': int('3')}\nANALYSIS = Analysis(name='fake', run=None, defaults=DEFAULTS)\n")
    with pytest.raises(RuntimeError, match="defaults must be a literal"):
        declared.read(bad)
    bad.write_text("DEFAULTS = {'warmup': 3}\nANALYSIS = Analysis(name='other', run=None, defaults=DEFAULTS)\n")
    with pytest.raises(RuntimeError, match="name 'other' must be the module's name 'fake'"):
        declared.read(bad)


def test_range_descriptions():
    assert ranges.integer(1).describe() == "integer >= 1"
    assert ranges.real(0, 1, low_open=True).describe() == "real in (0, 1]"
    assert ranges.real(0, low_open=True).describe() == "real > 0"
    assert ranges.list_of(ranges.real(0)).describe() == "list of at least 1 real >= 0"
    assert ranges.one_of("a", "b").describe() == "one of 'a', 'b'"
    assert not ranges.real(0).contains(math.nan) and not ranges.integer(0).contains(2.0)
    assert ranges.real(0).contains(2) and not ranges.real(0).contains(False)


# ---------------------------------------------------------------------- train / evaluate schema keys
def _resolve(node: dict, defs: dict) -> dict:
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**_resolve(target, defs), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def numeric_leaves(node: dict, path: list, defs: dict):
    """(path, schema) of every numeric value under ``node``; list elements as index 0, map values as
    an existing key of the smoke preset."""
    node = _resolve(node, defs)
    if node.get("type") in ("integer", "number"):
        yield path, node
    for branch in node.get("oneOf", []):
        yield from numeric_leaves(branch, path, defs)
    if node.get("type") == "array" and "items" in node:
        yield from numeric_leaves(node["items"], [*path, 0], defs)
    for k, sub in node.get("properties", {}).items():
        yield from numeric_leaves(sub, [*path, k], defs)
    if isinstance(node.get("additionalProperties"), dict):
        yield from numeric_leaves(node["additionalProperties"], [*path, "chain2"], defs)


def bad_schema_values(node: dict) -> list:
    cast, step = (int, 1) if node["type"] == "integer" else (float, 0.5)
    out = []
    if "minimum" in node:
        out.append(cast(node["minimum"]) - step)
    if "exclusiveMinimum" in node:
        out.append(cast(node["exclusiveMinimum"]))
    if "maximum" in node:
        out.append(cast(node["maximum"]) + step)
    if "exclusiveMaximum" in node:
        out.append(cast(node["exclusiveMaximum"]))
    return out


SCHEMA = load_schema()
BLOCKS = SCHEMA["$defs"]["preset"]["properties"]
SCHEMA_LEAVES = [(path, node) for block in ("train", "evaluate")
                 for path, node in numeric_leaves(BLOCKS[block], [block], SCHEMA["$defs"])]
SCHEMA_CASES = [(path, v) for path, node in SCHEMA_LEAVES for v in bad_schema_values(node)]


def test_every_numeric_train_and_evaluate_key_has_a_range():
    keys = {".".join(map(str, p)) for p, _ in SCHEMA_LEAVES}
    for must in ("train.eps", "train.lr", "train.resume_every", "train.betas.0", "train.epochs.chain2",
                 "train.checkpoint_epochs.0", "evaluate.tol", "evaluate.eps", "evaluate.max_iter"):
        assert must in keys, must
    for path, node in SCHEMA_LEAVES:
        assert bad_schema_values(node), f"{'.'.join(map(str, path))} has no bound"
    assert bad_schema_values(BLOCKS["evaluate"]["properties"]["tol"]) == [0.0, 1.0]  # a relative error < 1


def _put_schema_value(cfg: dict, path: list, value) -> None:
    """Set ``value`` at ``path`` under the smoke preset; an int last step replaces a list's first element
    (a non-list such as checkpoint_epochs: all becomes a one-element list)."""
    parent = cfg["presets"]["smoke"]
    *head, last = path
    if isinstance(last, int):
        *head, name = head
        for k in head:
            parent = parent[k]
        old = parent.get(name)
        parent[name] = [value, *(old[1:] if isinstance(old, list) else [])]
    else:
        for k in head:
            parent = parent[k]
        parent[last] = value


@pytest.mark.parametrize("path, value", SCHEMA_CASES, ids=[f"{'.'.join(map(str, p))}={v!r}" for p, v in SCHEMA_CASES])
def test_an_out_of_range_train_or_evaluate_key_names_the_key(path, value):
    cfg = smoke_config()
    _put_schema_value(cfg, path, value)
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    msg = str(info.value)
    assert f"config key 'presets.smoke.{'.'.join(map(str, path))}'" in msg, msg
    assert "out of range" in msg, msg


# ---------------------------------------------------------------------- HMM matrices
@pytest.mark.parametrize("width", [2, 4, 7])
def test_an_emission_matrix_of_any_width_is_an_hmm_of_that_many_symbols(width):
    cfg = smoke_config()
    rows = [[1.0 if j == i % width else 0.0 for j in range(width)] for i in range(4)]
    cfg["hmms"]["cyclic4"]["emissions"]["matrix"] = rows
    validate(cfg)
    from rnnhmm.config import hmm_spec
    from rnnhmm.hmm import build_hmm

    assert build_hmm("cyclic4", hmm_spec(cfg, "cyclic4")).n_outputs == width


def test_an_emission_matrix_of_one_symbol_names_the_key():
    cfg = smoke_config()
    cfg["hmms"]["cyclic4"]["emissions"]["matrix"] = [[1.0]] * 4
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    msg = str(info.value)
    assert "config key 'hmms.cyclic4.emissions.matrix' has 1 column; allowed: at least 2 columns" in msg, msg


def test_a_transition_matrix_that_is_not_square_names_the_key():
    cfg = smoke_config()
    cfg["hmms"]["cyclic4"]["transitions"]["matrix"] = [[0.5, 0.25, 0.25]] * 4
    with pytest.raises(ConfigError, match=r"'hmms\.cyclic4\.transitions\.matrix' is 4 x 3; allowed: a square matrix"):
        validate(cfg)


def test_emission_rows_must_match_the_states():
    cfg = smoke_config()
    cfg["hmms"]["cyclic4"]["transitions"]["matrix"] = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]
    with pytest.raises(ConfigError, match=r"'hmms\.cyclic4\.emissions\.matrix' has 4 rows; .* shape \(3, K\)"):
        validate(cfg)


# ---------------------------------------------------------------------- the CLI
def stage_argv(stage: str, params: str, tmp) -> list[str]:
    out = str(tmp / "out")
    return {
        "hmm": ["hmm", "--params", params, "--out", str(tmp / "out.npz")],
        "floor": ["floor", "--hmm-file", str(tmp / "h.npz"), "--params", params, "--out", str(tmp / "f.csv")],
        "train": ["train", "--hmm-file", str(tmp / "h.npz"), "--params", params, "--out-dir", out],
        "evaluate": ["evaluate", "--hmm-file", str(tmp / "h.npz"), "--model-file", str(tmp / "m.pt"), "--params", params,
                     "--out-dir", out],
        "evaluate-summary": ["evaluate-summary", "--params", params, "--out-dir", out],
        "analyze": ["analyze", "residency", "--params", params],
        "figure": ["figure", "fig2_global_dynamics", "--params", params, "--out", str(tmp / "fig")],
        "claims": ["claims", "--params", params, "--out", str(tmp / "claims.csv"), "--html", str(tmp / "c.html")],
        "report-pages": ["report-pages", "--params", params, "--training", str(tmp / "t.csv"), "--metrics",
                         str(tmp / "m.csv"), "--evaluation", str(tmp / "e.html"), "--provenance", str(tmp / "p.html")],
    }[stage]


STAGES = ["hmm", "floor", "train", "evaluate", "evaluate-summary", "analyze", "figure", "claims", "report-pages"]
BAD_PARAMS = [
    ("{bad", "error: --params is not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    ("", "error: --params is not valid JSON (Expecting value at line 1 column 1)"),
    ("[1, 2]", "error: --params must be a JSON object, got an array"),
    ("{}", "error: --params of '{stage}' is missing required key(s) "),
]


def one_error(caplog, capsys) -> str:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    captured = capsys.readouterr()
    for text in (caplog.text, captured.out, captured.err):
        assert "Traceback" not in text, text
    msg = errors[0].getMessage()
    assert "\n" not in msg
    return msg


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("params, expected", BAD_PARAMS, ids=["malformed", "empty", "array", "missing-keys"])
def test_bad_params_give_one_line_and_exit_2(stage, params, expected, tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(stage_argv(stage, params, tmp_path)) == 2
    msg = one_error(caplog, capsys)
    assert msg.startswith(expected.format(stage=stage)), msg
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_missing_keys_are_named(tmp_path, caplog, capsys):
    assert cli.main(stage_argv("hmm", '{"name": "chain2", "seq_len": 10}', tmp_path)) == 2
    assert one_error(caplog, capsys) == ("error: --params of 'hmm' is missing required key(s) spec, data, base_seed; "
                                         "required: name, spec, seq_len, data, base_seed")
    assert not (tmp_path / "out.npz").exists()


def test_an_out_of_range_analysis_parameter_via_the_cli(tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.chdir(tmp_path)
    p = ('{"preset": "smoke", "base_seed": 1, "model": {"hmm": "chain2", "hidden": 4, "dim": 2, "seed": 0}, '
         '"params": {"max_steps": -3}}')
    assert cli.main(stage_argv("analyze", p, tmp_path)) == 2
    assert one_error(caplog, capsys) == ("ParamError: parameter 'max_steps' of analysis 'residency' = -3 is out of "
                                         "range; allowed: integer >= 1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threads, message", [("0", "0 is out of range; allowed: an integer >= 1"),
                                              ("-2", "-2 is out of range"), ("two", "'two' is not an integer")])
def test_threads_must_be_a_positive_integer(threads, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([*stage_argv("train", "{}", tmp_path), "--threads", threads])
    assert info.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and f"argument --threads: {message}" in lines[0], err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- through snakemake
def test_snakemake_stops_on_an_out_of_range_analysis_parameter(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    cfg = yaml.safe_load((repo / "config.yaml").read_text())
    cfg["presets"]["smoke"]["analysis"]["residency"]["max_steps"] = -3
    (repo / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    res = snakemake(repo, "-n", "--config", "preset=smoke", timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-2000:]
    lines = [ln for ln in out.splitlines() if ln.startswith("invalid configuration: ")]
    assert len(lines) == 1, out[-2000:]
    assert "config key 'presets.smoke.analysis.residency.max_steps'" in lines[0], lines[0]
    assert "= -3 is out of range; allowed: integer >= 1" in lines[0], lines[0]
    assert "Traceback" not in out, out[-2000:]
    assert not (repo / "results").exists()


def test_version_is_the_installed_packages(capsys):
    """`rnnhmm --version` prints the one version (rnnhmm.__version__, which pyproject.toml reads)."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnhmm {version('rnnhmm')}"
