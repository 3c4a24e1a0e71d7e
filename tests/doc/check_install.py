"""What meson install puts in place works from there (TAP): installed into a staging folder
(DESTDIR), the AC-OPF example compiles with `pkg-config --cflags --libs foldopt` and runs
against the installed library, and Debian's python3 imports the installed foldopt package
from a folder on its own sys.path.

Usage: check_install.py BUILD_DIR SOURCE_DIR PYTHON CC"""
import os
import subprocess
import sys
import tempfile

build, source, python, cc = sys.argv[1:5]
results = []


def check(ok, name, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}")
    if not ok and detail:
        print("\n".join("# " + line for line in detail.splitlines()[-30:]))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


with tempfile.TemporaryDirectory() as stage:
    inst = run(["meson", "install", "-C", build, "--destdir", stage, "--no-rebuild", "--quiet"])
    check(inst.returncode == 0, "meson install --destdir", inst.stdout + inst.stderr)
    installed = run(["meson", "introspect", build, "--installed"]).stdout
    import json
    files = json.loads(installed).values()
    pcdir = next(os.path.dirname(f) for f in files if f.endswith("foldopt.pc"))
    libdir = next(os.path.dirname(f) for f in files if "libfoldopt.so" in f)
    pkgdir = next(os.path.dirname(os.path.dirname(f)) for f in files
                  if f.endswith("foldopt/__init__.py"))
    env = dict(os.environ, PKG_CONFIG_PATH=stage + pcdir, PKG_CONFIG_SYSROOT_DIR=stage)
    flags = run(["pkg-config", "--cflags", "--libs", "foldopt"], env=env)
    check(flags.returncode == 0 and "-lfoldopt" in flags.stdout, "pkg-config foldopt",
          flags.stderr)
    exe = os.path.join(stage, "example_acopf")
    comp = run([cc, os.path.join(source, "doc/examples/example_acopf.c"), "-o", exe,
                *flags.stdout.split(), "-lm"])  # the example itself uses libm
    check(comp.returncode == 0, "example_acopf.c compiles against the installed headers",
          comp.stderr)
    env_run = dict(os.environ, LD_LIBRARY_PATH=stage + libdir)
    out = run([exe], env=env_run) if comp.returncode == 0 else None
    check(out is not None and out.returncode == 0 and "LMP" in out.stdout,
          "example_acopf runs against the installed library", out.stderr if out else "")
    # the package's layout: every module and the extension module in one folder, under the
    # prefix where Debian's python3 looks (lib/python3.X/dist-packages for /usr/local; the
    # lib/python3/dist-packages of Debian's own scheme is for /usr only)
    modules = sorted(f for f in os.listdir(os.path.join(source, "python", "foldopt"))
                     if f.endswith(".py"))
    installed_pkg = sorted(os.path.basename(f) for f in files
                           if os.path.dirname(f) == pkgdir + "/foldopt")
    ext = [f for f in installed_pkg if f.startswith("_foldopt.") and f.endswith(".so")]
    check(len(ext) == 1 and sorted(set(installed_pkg) - set(ext)) == modules and
          all(os.path.isfile(stage + pkgdir + "/foldopt/" + f) for f in installed_pkg),
          f"the package in {pkgdir}/foldopt: every module and the extension",
          "\n".join(installed_pkg))
    opts = {o["name"]: o["value"] for o in
            json.loads(run(["meson", "introspect", build, "--buildoptions"]).stdout)}
    version = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout
    if opts.get("prefix") == "/usr/local" and not opts.get("python_install_dir"):
        want = f"/usr/local/lib/python{version.strip()}/dist-packages"
        check(pkgdir == want, f"prefix /usr/local: the package goes to {want}", pkgdir)
    on_path = run([python, "-c", "import sys; print('\\n'.join(sys.path))"]).stdout.split()
    check(pkgdir in on_path, f"{pkgdir} is on {python}'s sys.path", "\n".join(on_path))
    code = ("import foldopt, foldopt.opf as opf; s = opf.OPF.grid(8).solve(); "
            "assert s.converged and foldopt.__file__.startswith(%r); print('ok')" % stage)
    imp = run([python, "-c", code], cwd=stage,
              env=dict(env_run, PYTHONPATH=stage + pkgdir))
    check(imp.returncode == 0 and imp.stdout.strip() == "ok",
          "the installed foldopt package imports and solves", imp.stderr)

print(f"1..{len(results)}")
