"""The wheel of the Python package builds offline and works (TAP; slow suite): a copy of the
source tree is built with Debian's meson-python through pyproject.toml (`pip wheel
--no-build-isolation --no-deps --no-index`), the wheel holds the package alone (the library
linked into the extension module), installs into a new venv with --system-site-packages
and imports, solves and differentiates there (doc/python.md "Wheel").

Usage: check_wheel.py SOURCE_DIR PYTHON"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

source, python = sys.argv[1:3]
results = []


def check(ok, name, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}", flush=True)
    if not ok and detail:
        print("\n".join("# " + line for line in detail.splitlines()[-30:]))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


missing = [m for m in ("mesonpy", "pip", "venv")
           if run([python, "-c", f"import {m}"]).returncode != 0]
if missing:
    print(f"1..0 # SKIP {python} lacks {', '.join(missing)} (python3-mesonpy, python3-pip, "
          "python3-venv)")
    sys.exit(0)


def top_level_ignore(folder, names):
    """Build folders, git data and meson-python's files of the source root stay behind."""
    if os.path.abspath(folder) != os.path.abspath(source):
        return []
    return [n for n in names if n.startswith(("build", ".git", ".mesonpy"))]


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "src")
    shutil.copytree(source, src, ignore=top_level_ignore)
    dist = os.path.join(tmp, "dist")
    built = run([python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index",
                 "-w", dist, src], timeout=1800)
    wheels = glob.glob(os.path.join(dist, "*.whl"))
    cp = run([python, "-c", "import sys; print('cp%d%d' % sys.version_info[:2])"]).stdout
    tag = f"{cp.strip()}-{cp.strip()}-linux"
    check(built.returncode == 0 and len(wheels) == 1,
          "pip wheel --no-build-isolation --no-deps --no-index builds one wheel offline",
          built.stdout + built.stderr)
    if len(wheels) != 1:
        print(f"1..{len(results)}")
        sys.exit(0)
    whl = wheels[0]
    check(tag in os.path.basename(whl), f"the wheel is tagged for this interpreter ({tag})",
          whl)
    names = zipfile.ZipFile(whl).namelist()
    modules = sorted(os.path.basename(p) for p in glob.glob(
        os.path.join(source, "python", "foldopt", "*.py")))
    package = sorted(n.split("/", 1)[1] for n in names if n.startswith("foldopt/"))
    ext = [n for n in package if n.startswith("_foldopt.") and n.endswith(".so")]
    check(len(ext) == 1 and sorted(set(package) - set(ext)) == modules and
          all(n.startswith(("foldopt/", "foldopt-")) for n in names),
          "the wheel holds the package alone: every module and the extension", "\n".join(names))
    venv = os.path.join(tmp, "venv")
    made = run([python, "-m", "venv", "--system-site-packages", venv])
    vpy = os.path.join(venv, "bin", "python")
    inst = run([vpy, "-m", "pip", "install", "--no-deps", "--no-index", whl]) \
        if made.returncode == 0 else made
    check(inst.returncode == 0, "pip installs the wheel into a venv with --system-site-packages",
          inst.stdout + inst.stderr)
    where = run([vpy, "-c", "import foldopt._foldopt as m; print(m.__file__)"], cwd=tmp)
    so = where.stdout.strip()
    check(where.returncode == 0 and so.startswith(venv),
          "the venv imports the wheel's package (not the build tree's)", where.stderr + so)
    deps = run(["ldd", so]) if so else where
    check(deps.returncode == 0 and "libfoldopt" not in deps.stdout and
          "not found" not in deps.stdout,
          "the extension module needs no libfoldopt and finds every library", deps.stdout)
    code = "\n".join([
        "import numpy as np, foldopt.opf as opf",
        "s = opf.OPF.grid(8, seed=2).solve()",
        "assert s.converged and np.allclose(s.value_gradient('pd'), s['lam_p'], atol=1e-6)",
        "J = s.jacobian('pg', 'pd'); assert np.isfinite(J).all() and s.trust().exact",
        "try:",
        "    import torch",
        "except ImportError:",
        "    print('ok'); raise SystemExit",
        "from foldopt.torch import OPFLayer",
        "layer = OPFLayer(s.model, wrt='pd', outputs='pg')",
        "pd = torch.tensor(s.model.params('pd'))[None].requires_grad_(True)",
        "layer(pd).sum().backward()",
        "assert np.allclose(pd.grad[0].numpy(), J.sum(axis=0), atol=1e-8)",
        "print('ok')"])
    use = run([vpy, "-c", code], cwd=tmp, env=dict(os.environ, PYTHONPATH=""))
    check(use.returncode == 0 and use.stdout.strip() == "ok",
          "from the venv: solve, LMPs, Jacobian, trust and an OPFLayer backward",
          use.stdout + use.stderr)

print(f"1..{len(results)}")
