"""Every figure and the claims check on degenerate-but-valid tables (silent, runaway, single-output models, no
switches, no kick groups, a single noise level, all-NaN columns, ...).

The tables are those of a real smoke run (``smoke_run``), and for the branches an untrained smoke model
never reaches (a kick group or a transition point found) those of the planted networks of
test_mechanism_pipeline and test_noise_sensitivity.  Their columns, dtypes and JSON / npz structure are
the schema; each mutation below is generated mechanically from it and applied to every file in the
folders a figure reads (``needs()``).  A figure must then still render, save a PNG and leave no panel
blank without a note saying what is missing; the claims check must still produce its table (NaN value,
pass False).  Only a missing or damaged input file, or a bug, may raise.

Run:  python -m pytest tests/test_figures_degenerate.py   (RNNHMM_DEGENERATE_FULL=1 for the longer run)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rnnhmm import claims, figures, io, plan
from rnnhmm.figures import style
from rnnhmm.io import write_results

PRESET = "smoke"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEST_DPI = 30  # PNG of every mutated render: enough to prove the figure draws, cheap on 2 cores
TABLE_SUFFIXES = (".csv", ".parquet")
# columns that hold an output (symbol) index, and columns that hold a swept level
OUTPUT_COLUMNS = frozenset({"o", "source", "from", "to", "k", "output"})
LEVEL_COLUMNS = frozenset({"sigma", "mu", "gamma", "epoch", "level"})
RUNAWAY_FACTOR = 1e30  # the 'runaway' mutation scales every float by this
# set to 1 for the longer run: the 'silent' mutation as well, and one table at a time empty (about 5 more
# minutes on 2 cores)
FULL = bool(os.environ.get("RNNHMM_DEGENERATE_FULL"))


# ---------------------------------------------------------------------- the mutations
def _float_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]


def _int_columns(df: pd.DataFrame, names) -> list[str]:
    return [c for c in df.columns if c in names and pd.api.types.is_integer_dtype(df[c])]


def _nan_table(df):
    df = df.copy()
    for c in _float_columns(df):
        df[c] = np.nan
    return df


def _silent_table(df):
    """Float columns 0 (a silent model: no activity, no spread, no distance)."""
    df = df.copy()
    for c in _float_columns(df):
        df[c] = df[c].where(df[c].isna(), 0.0)
    return df


def _runaway_table(df):
    """Float columns x 1e30, every third value +inf and every sixth -inf (a blown-up, then overflowing
    model)."""
    df = df.copy()
    rows = np.arange(len(df))
    for c in _float_columns(df):
        v = df[c].to_numpy(dtype=float, copy=True) * RUNAWAY_FACTOR
        v[rows % 3 == 1] = np.inf
        v[rows % 6 == 2] = -np.inf
        df[c] = v.astype(df[c].dtype)
    return df


def _one_output_table(df):
    """Every output-index column set to output 0: the other outputs never appear."""
    df = df.copy()
    for c in _int_columns(df, OUTPUT_COLUMNS):
        df[c] = df[c].where(df[c].isna(), 0).astype(df[c].dtype)
    return df


def _one_level_table(df):
    """Only the first value of every swept-level column is left."""
    for c in (c for c in df.columns if c in LEVEL_COLUMNS):
        if len(df):
            df = df[df[c] == df[c].iloc[0]] if pd.notna(df[c].iloc[0]) else df[df[c].isna()]
    return df


def _walk_json(obj, leaf: Callable):
    """``obj`` with ``leaf(key, value)`` applied to every scalar (key: the dict key above it)."""
    def walk(x, key=None):
        if isinstance(x, dict):
            return {k: walk(v, k) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v, key) for v in x]
        return leaf(key, x)
    return walk(obj)


def _is_float(v) -> bool:
    return isinstance(v, float)


def _json_empty(obj):
    """Every list and dict at the top of the file emptied (no kick groups, no pairs, no sets, ...)."""
    if not isinstance(obj, dict):
        return obj
    return {k: type(v)() if isinstance(v, (list, dict)) else v for k, v in obj.items()}


def _json_not_found(obj):
    """Every record that says it found something says it did not (kick groups, transition points, sets)."""
    def walk(x):
        if isinstance(x, list):
            return [walk(v) for v in x]
        if not isinstance(x, dict):
            return x
        out = {k: walk(v) for k, v in x.items()}
        for k in ("found", "significant"):
            if isinstance(out.get(k), bool):
                out[k] = False
        if out.get("status") == "ok":
            out["status"] = "not found (degenerate-table test)"
        return out
    return walk(obj)


def _npz_floats(arrays: dict, fn) -> dict:
    return {k: fn(v) if np.issubdtype(v.dtype, np.floating) else v for k, v in arrays.items()}


def _npz_runaway(v):
    v = v.astype(float) * RUNAWAY_FACTOR
    flat = v.reshape(-1)
    flat[1::3] = np.inf
    return v


@dataclass(frozen=True)
class Mutation:
    """How one kind of degenerate model changes each kind of file (None: left as it is)."""
    name: str
    table: Callable | None = None
    json: Callable | None = None
    npz: Callable | None = None


MUTATIONS = (
    Mutation("empty", table=lambda df: df.iloc[:0],
             npz=lambda a: _npz_floats(a, lambda v: np.zeros((0,) * v.ndim, v.dtype))),
    Mutation("one_row", table=lambda df: df.iloc[:1]),
    Mutation("all_nan", table=_nan_table, json=lambda o: _walk_json(o, lambda k, v: math.nan if _is_float(v) else v),
             npz=lambda a: _npz_floats(a, lambda v: np.full_like(v, np.nan))),
    Mutation("silent", table=_silent_table, json=lambda o: _walk_json(o, lambda k, v: 0.0 if _is_float(v) else v),
             npz=lambda a: _npz_floats(a, np.zeros_like)),
    Mutation("runaway", table=_runaway_table,
             json=lambda o: _walk_json(o, lambda k, v: v * RUNAWAY_FACTOR if _is_float(v) else v),
             npz=lambda a: _npz_floats(a, _npz_runaway)),
    Mutation("one_output", table=_one_output_table,
             json=lambda o: _walk_json(o, lambda k, v: 0 if k in OUTPUT_COLUMNS and type(v) is int else v)),
    Mutation("one_level", table=_one_level_table),
    Mutation("json_empty", json=_json_empty),
    Mutation("json_not_found", json=_json_not_found),
)
MUTATION_NAMES = [m.name for m in MUTATIONS]
BY_NAME = {m.name: m for m in MUTATIONS}
GRID_MUTATIONS = MUTATION_NAMES if FULL else [m for m in MUTATION_NAMES if m != "silent"]


# ---------------------------------------------------------------------- the schema and the copies
def data_files(root: Path) -> list[Path]:
    """The result files under ``root`` (tables, JSON, npz; not the provenance sidecars)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(io.SIDECAR_SUFFIX)
                  and p.suffix in (*TABLE_SUFFIXES, ".json", ".npz"))


def schema(root: Path, relative: list[str]) -> dict[str, object]:
    """Per file of ``relative`` (files and folders under ``root``): a table's columns and dtypes, a JSON
    file's keys, an npz's arrays (dtype, number of dimensions)."""
    out: dict[str, object] = {}
    files = [p for rel in relative for p in ([root / rel] if (root / rel).is_file() else data_files(root / rel))]
    for p in files:
        rel = str(p.relative_to(root))
        if p.suffix in TABLE_SUFFIXES:
            out[rel] = {c: str(t) for c, t in io.read_table(p).dtypes.items()}
        elif p.suffix == ".json":
            obj = io.read_json(p)
            out[rel] = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        else:
            out[rel] = {k: (str(v.dtype), v.ndim) for k, v in io.read_npz(p).items()}
    return out


def copy_inputs(source: Path, dest: Path, relative: list[str]) -> Path:
    """Copy the files and folders ``relative`` (as ``needs()`` names them) with their sidecars."""
    for rel in relative:
        src, dst = source / rel, dest / rel
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            side = io.sidecar_path(src)
            if side.exists():
                shutil.copy2(side, io.sidecar_path(dst))
        else:
            raise FileNotFoundError(f"{src}: an input of the smoke run is missing")
    return dest


def _rewrite(path: Path, mutation: str) -> None:
    """A fresh sidecar for a rewritten file, so that reading it still verifies its SHA-256."""
    io.write_sidecar(path, {"config": {"degenerate_table_test": mutation}})


def _same_arrays(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(a[k].shape == b[k].shape and np.array_equal(a[k], b[k], equal_nan=True)
                                        for k in a)


def mutate(root: Path, mutation: Mutation, only: set[str] | None = None) -> list[str]:
    """Apply ``mutation`` to every file under ``root`` (or to the files named in ``only``); the files it
    changed (a file the mutation leaves as it is is not rewritten)."""
    changed = []
    for p in data_files(root):
        if only is not None and p.name not in only:
            continue
        if p.suffix in TABLE_SUFFIXES and mutation.table is not None:
            df = io.read_table(p)
            new = mutation.table(df)
            assert list(new.columns) == list(df.columns), (p, mutation.name)  # the schema is kept
            if p.suffix == ".parquet":
                assert list(new.dtypes) == list(df.dtypes), (p, mutation.name)
            if new.equals(df):
                continue
            io.write_table(p, new.reset_index(drop=True))
        elif p.suffix == ".json" and mutation.json is not None:
            obj = io.read_json(p)
            new = mutation.json(obj)
            if json.dumps(new, sort_keys=True) == json.dumps(obj, sort_keys=True):
                continue
            io.write_json(p, new)
        elif p.suffix == ".npz" and mutation.npz is not None:
            arrays = io.read_npz(p)
            new = mutation.npz(arrays)
            if _same_arrays(new, arrays):
                continue
            io.write_npz(p, **new)
        else:
            continue
        _rewrite(p, mutation.name)
        changed.append(str(p.relative_to(root)))
    return changed


def files_read(name: str, root: Path, preset_cfg: dict, hmms: dict):
    """Render figure ``name`` from ``root`` and record the result files it reads (every rnnhmm.io reader
    verifies its file first); (the files, the figure)."""
    seen: list[Path] = []
    verify = io.verify

    def spy(path):
        seen.append(Path(path))
        return verify(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(io, "verify", spy)
        fig = figures.render(name, figures.FigureContext(preset=PRESET, preset_cfg=preset_cfg, hmms_cfg=hmms,
                                                         root=root))
    return sorted(set(seen)), fig


# ---------------------------------------------------------------------- rendering
def _any_finite(xy) -> bool:
    a = np.ma.filled(np.ma.asarray(xy, dtype=float), np.nan)
    return bool(a.size) and bool(np.isfinite(a).all(axis=-1).any() if a.ndim > 1 else np.isfinite(a).any())


def shows_data(ax) -> bool:
    """Whether ``ax`` draws something at a finite data position (a line, marker, bar, contour or image);
    reference lines in axes coordinates (axhline, axvspan) do not count."""
    import matplotlib.collections as mcoll
    import matplotlib.image as mimage
    import matplotlib.lines as mlines
    import matplotlib.patches as mpatches

    data = ax.transData
    for a in ax.get_children():
        if not a.get_visible():
            continue
        if isinstance(a, mlines.Line2D) and a.get_transform().contains_branch(data):
            if _any_finite(np.column_stack([np.asarray(a.get_xdata(), float), np.asarray(a.get_ydata(), float)])):
                return True
        elif isinstance(a, mcoll.Collection):
            if _any_finite(a.get_offsets()) or (not isinstance(a, mcoll.PathCollection)
                                                and any(len(p.vertices) for p in a.get_paths())):
                return True
        elif isinstance(a, mpatches.Patch) and a is not ax.patch and a.get_transform().contains_branch(data):
            box = a.get_extents()
            if np.isfinite([box.x0, box.x1, box.y0, box.y1]).all() and (box.width > 0 or box.height > 0):
                return True
        elif isinstance(a, mimage.AxesImage) and _any_finite(a.get_array()):
            return True
    return False


def silent_panels(fig) -> list[str]:
    """The titles of the panels that show no data and say nothing (no note): a degenerate case drawn as a
    blank panel.  A twin axis counts as part of the panel it overlays; panels turned off are not panels."""
    def speaks(ax) -> bool:
        return shows_data(ax) or any(t.get_text().strip() for t in ax.texts)

    out = []
    for ax in fig.axes:
        if not (ax.axison and ax.get_visible()) or ax.get_label() == "<colorbar>":
            continue
        pos = ax.get_position().bounds
        if not any(np.allclose(o.get_position().bounds, pos) and speaks(o) for o in fig.axes):
            out.append(ax.get_title() or ax.get_ylabel() or "an untitled panel")
    return out


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000


def render_figure(name: str, root: Path, preset_cfg: dict, hmms: dict, out: Path, real_save: bool = False) -> Path:
    """Render figure ``name`` from the tables under ``root`` into ``out``/<name>.png: a cheap PNG, or with
    ``real_save`` the workflow's style.save (PDF and PNG at the figure dpi)."""
    import matplotlib.pyplot as plt

    ctx = figures.FigureContext(preset=PRESET, preset_cfg=preset_cfg, hmms_cfg=hmms, root=root)
    fig = figures.render(name, ctx)
    try:
        if real_save:
            pdf, png = style.save(fig, out / name)  # (it closes the figure; the artists stay readable)
            assert pdf.read_bytes()[:5] == b"%PDF-", name
        else:
            png = out / f"{name}.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            fig.savefig(png, format="png", dpi=TEST_DPI)
        blank = silent_panels(fig)
    finally:
        plt.close(fig)
    assert not blank, f"{name}: panels with nothing drawn and no note saying why: {blank}"
    return png


def mutated_root(source: Path, dest: Path, relative: list[str], mutation: str,
                 only: set[str] | None = None) -> tuple[Path, list[str]]:
    """A copy of ``relative`` under ``dest`` with ``mutation`` applied; (dest, the files it changed)."""
    copy_inputs(source, dest, relative)
    return dest, mutate(dest, BY_NAME[mutation], only)


def check_claims(root: Path, preset_cfg: dict, hmms: dict) -> pd.DataFrame:
    """The claims table from the tables under ``root``: its columns and rows, pass False where NaN."""
    table = claims.claims_table(PRESET, preset_cfg, hmms, root=root)
    assert list(table.columns) == claims.COLUMNS
    expected = [(c.claim, c.name, claims.row_model(c, models)) for c, models in claims.planned(preset_cfg, hmms)]
    assert list(zip(table["claim"], table["check"], table["model"], strict=True)) == expected
    assert table["pass"].map(type).eq(bool).all()
    value = table["value"].astype(float)
    assert not table.loc[~np.isfinite(value), "pass"].any()
    return table


# ---------------------------------------------------------------------- the found branches
# An untrained smoke model finds no kick group and no transition point, so the tables of those branches
# come from the planted networks of test_mechanism_pipeline (kick groups, populations, mean activities,
# ablation) and test_noise_sensitivity (a slow rotation: cluster and transition points), written over the
# smoke run's folders of every reference model the figures read them for.
PLANTED = ("kick_neurons", "connectivity", "mean_activity", "ablation", "noise_sensitivity")


def _planted_tables() -> dict[str, dict]:
    from rnnhmm.dynamics import ablation, connectivity, kick_neurons, mean_activity
    from rnnhmm.dynamics import noise_sensitivity as ns
    from test_kick_neurons import planted_network
    from test_mechanism_pipeline import PlantedContext
    from test_noise_sensitivity import rotation_net
    from test_residency import Ctx

    out, net = {}, planted_network()[0]
    spec = plan.ModelSpec("chain2", net.hidden, net.dim, 0)
    with tempfile.TemporaryDirectory() as tmp:
        for a in (kick_neurons, connectivity, mean_activity, ablation):  # each reads the one before
            ctx = PlantedContext(a.ANALYSIS.name, net, Path(tmp), PRESET, spec)
            out[a.ANALYSIS.name] = a.ANALYSIS.run(ctx)
            write_results(ctx.analysis_dir(a.ANALYSIS.name), out[a.ANALYSIS.name], {})
    out["noise_sensitivity"] = ns.run(Ctx("noise_sensitivity", rotation_net(), {"test_trajectories": 20}))
    return out


def planted_root(smoke_root: Path, dest: Path, preset_cfg: dict) -> Path:
    """A copy of every input of the figures and the claims check, the PLANTED analyses of every reference
    model replaced by the planted networks' tables."""
    relative = {rel for name in figures.FIGURES for rel in figures.needs(name, PRESET, preset_cfg)}
    copy_inputs(smoke_root, dest, sorted(relative | set(claims.needs(PRESET, preset_cfg, _HMMS))))
    tables = _planted_tables()
    for m in plan.reference_models(preset_cfg):
        for name, results in tables.items():
            folder = dest / plan.analysis_dir(PRESET, name, m)
            shutil.rmtree(folder, ignore_errors=True)
            write_results(folder, results, {})
    return dest


def reads_planted(relative: list[str]) -> bool:
    return any(f"/analysis/{a}/" in f"/{rel}/" for rel in relative for a in PLANTED)


# ---------------------------------------------------------------------- the tests
FIGURE_NAMES = sorted(figures.FIGURES)
_CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
_PRESET_CFG, _HMMS = _CONFIG["presets"][PRESET], _CONFIG["hmms"]
# (source of the tables, figure): every figure on the smoke run; those reading a PLANTED analysis also on those
CASES = [("smoke", n) for n in FIGURE_NAMES] + [("planted", n) for n in FIGURE_NAMES
                                                 if reads_planted(figures.needs(n, PRESET, _PRESET_CFG))]


@pytest.fixture(scope="module")
def smoke(smoke_run):
    """(folder of the smoke run, its preset config, the HMM configs) once its tables exist."""
    work, res, _ = smoke_run
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    pcfg = cfg["presets"][PRESET]
    missing = [rel for name in figures.FIGURES for rel in figures.needs(name, PRESET, pcfg) if not (work / rel).exists()]
    missing += [rel for rel in claims.needs(PRESET, pcfg, _HMMS) if not (work / rel).exists()]
    if missing:
        pytest.fail(f"the smoke run did not write {missing[:5]} ...:\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}")
    return work, pcfg, cfg["hmms"]


@pytest.fixture(scope="module")
def sources(smoke, tmp_path_factory) -> dict[str, Path]:
    """The folders the tables are copied from: the smoke run, and the smoke run with the planted analyses."""
    work, pcfg, _ = smoke
    return {"smoke": work, "planted": planted_root(work, tmp_path_factory.mktemp("planted"), pcfg)}


@pytest.mark.workflow
def test_the_schema_is_that_of_the_smoke_run(smoke, sources):
    """The mutations start from real tables: files of every kind, columns with outputs and with levels, and
    the planted source reaches the found branches the smoke models never do."""
    work, pcfg, _ = smoke
    relative = sorted({rel for name in figures.FIGURES for rel in figures.needs(name, PRESET, pcfg)})
    sch = schema(work, relative)
    assert {".csv", ".parquet", ".json", ".npz"} <= {Path(rel).suffix for rel in sch}
    columns = {c for v in sch.values() if isinstance(v, dict) for c in v}
    assert columns & OUTPUT_COLUMNS and columns & LEVEL_COLUMNS
    ref2 = plan.ref2_models(pcfg)[0]
    kick = io.read_json(sources["planted"] / plan.analysis_dir(PRESET, "kick_neurons", ref2) / "kick_groups.json")
    points = io.read_json(sources["planted"] / plan.analysis_dir(PRESET, "noise_sensitivity", ref2) / "ns_points.json")
    assert kick["groups"]["1"]["found"] and points["found"]


@pytest.mark.workflow
@pytest.mark.parametrize("mutation", GRID_MUTATIONS)
@pytest.mark.parametrize(("source", "name"), CASES)
def test_figure_renders_on_degenerate_tables(smoke, sources, tmp_path, source, name, mutation):
    _, pcfg, hmms = smoke
    root, changed = mutated_root(sources[source], tmp_path / "root", figures.needs(name, PRESET, pcfg), mutation)
    if not changed:
        pytest.skip(f"{mutation} changes none of the files {name} reads (the unmutated render covers it)")
    # the real save (PDF and PNG at the figure dpi) once per figure and source, a cheap PNG otherwise
    png = render_figure(name, root, pcfg, hmms, tmp_path / "out", real_save=mutation == "empty")
    assert is_png(png), (name, mutation)


@pytest.mark.workflow
@pytest.mark.skipif(not FULL, reason="one table at a time: about 5 more minutes on 2 cores (RNNHMM_DEGENERATE_FULL=1)")
@pytest.mark.parametrize(("source", "name"), CASES)
def test_figure_renders_with_each_table_empty_alone(smoke, sources, tmp_path, source, name):
    """Each table the figure reads (by file name, in every model's folder at once) empty while the others
    are as written: the mixed states of a model whose analyses wrote some tables without rows."""
    import matplotlib.pyplot as plt

    _, pcfg, hmms = smoke
    relative = figures.needs(name, PRESET, pcfg)
    base = copy_inputs(sources[source], tmp_path / "base", relative)
    read, _ = files_read(name, base, pcfg, hmms)
    plt.close("all")
    failures = []
    for table in sorted({p.name for p in read if p.suffix in TABLE_SUFFIXES}):
        root, _ = mutated_root(base, tmp_path / table, relative, "empty", only={table})
        try:
            png = render_figure(name, root, pcfg, hmms, tmp_path / "out" / table)
        except Exception as err:  # every table that breaks the figure is listed, then the test fails once
            failures.append(f"{table}: {type(err).__name__}: {err}")
            continue
        if not is_png(png):
            failures.append(f"{table}: no PNG")
    assert not failures, "\n".join(failures)


@pytest.mark.workflow
@pytest.mark.parametrize("mutation", GRID_MUTATIONS)
@pytest.mark.parametrize("source", ["smoke", "planted"])
def test_claims_table_on_degenerate_tables(smoke, sources, tmp_path, source, mutation):
    _, pcfg, hmms = smoke
    root, changed = mutated_root(sources[source], tmp_path / "root", claims.needs(PRESET, pcfg, _HMMS), mutation)
    if not changed:
        pytest.skip(f"{mutation} changes none of the files the claims check reads")
    check_claims(root, pcfg, hmms)


@pytest.mark.workflow
@pytest.mark.parametrize("source", ["smoke", "planted"])
def test_claims_table_with_each_table_empty_alone(smoke, sources, tmp_path, source):
    _, pcfg, hmms = smoke
    relative = claims.needs(PRESET, pcfg, _HMMS)
    base = copy_inputs(sources[source], tmp_path / "base", relative)
    check_claims(base, pcfg, hmms)
    tables = sorted({p.name for p in data_files(base) if p.suffix in TABLE_SUFFIXES})
    assert tables
    for table in tables:
        root, _ = mutated_root(base, tmp_path / table, relative, "empty", only={table})
        check_claims(root, pcfg, hmms)


def test_mutations_keep_the_schema_of_a_small_table():
    """The mutations on a synthetic table (no smoke run needed): columns and dtypes kept, the promised effect."""
    df = pd.DataFrame({"sigma": [0.1, 0.1, 1.0, 1.0], "o": [0, 2, 1, 2], "source": ["rnn"] * 4,
                       "pc1": [1.0, 2.0, 3.0, 4.0], "n": [1, 2, 3, 4]})
    assert _one_level_table(df)["sigma"].tolist() == [0.1, 0.1]
    assert _one_output_table(df)["o"].tolist() == [0, 0, 0, 0] and _one_output_table(df)["source"].eq("rnn").all()
    assert _nan_table(df)["pc1"].isna().all() and _nan_table(df)["n"].tolist() == [1, 2, 3, 4]
    run = _runaway_table(df)["pc1"].to_numpy()
    assert run[0] == RUNAWAY_FACTOR and np.isinf(run).sum() == 2
    for m in MUTATIONS:
        if m.table is not None:
            new = m.table(df)
            assert list(new.dtypes) == list(df.dtypes), m.name
    groups = {"status": "ok", "groups": {"1": {"found": True, "status": "ok", "source": 2, "effect": 0.5}}}
    assert _json_empty(groups) == {"status": "ok", "groups": {}}
    nf = _json_not_found(groups)
    assert nf["groups"]["1"]["found"] is False and nf["status"] != "ok"
    assert json.loads(json.dumps(BY_NAME["one_output"].json(groups)))["groups"]["1"]["source"] == 0


def test_a_blank_panel_is_found_and_a_noted_one_is_not():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4)
    axes[0].plot([0, 1], [np.nan, np.nan])  # nothing finite
    axes[0].axhline(1.0)  # a reference line is not data
    axes[0].set_title("blank")
    style.note(axes[1], "no switches")
    axes[2].scatter([1.0], [2.0])
    axes[3].bar([0], [np.nan])
    axes[3].twinx().plot([0, 1], [0, 1])  # the twin draws for the panel
    fig.canvas.draw()
    assert silent_panels(fig) == ["blank"]
    plt.close(fig)
