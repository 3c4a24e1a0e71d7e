"""What meson install puts in place works from there (TAP). Installed into a staging folder
(DESTDIR): pkg-config's flags name the installed tree and nothing of the libraries behind
it (no Ipopt, cJSON or MPI flags); every public header compiles alone with them; every
worked example of doc/ compiles with `pkg-config --cflags --libs foldopt` alone, runs
against the installed library (found by an rpath to pkg-config's libdir) and prints what
the example built in the tree prints; one example links the static library with
`pkg-config --static`; Debian's python3 imports the installed foldopt package from a
folder on its own sys.path (skipped when the package is not built).

Usage: check_install.py BUILD_DIR SOURCE_DIR CC PYTHON|'' EXAMPLE_SOURCE BUILT_EXAMPLE ..."""
import json
import os
import re
import subprocess
import sys
import tempfile

build, source, cc, python = sys.argv[1:5]
examples = list(zip(sys.argv[5::2], sys.argv[6::2]))
results = []


def check(ok, name, detail="", skip=None):
    results.append(ok)
    verdict = "ok" if ok else "not ok"
    print(f"{verdict} {len(results)} - {name}" + (f" # SKIP {skip}" if skip else ""))
    if not ok and detail:
        print("\n".join("# " + line for line in detail.splitlines()[-30:]))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def steady(out):
    """An example's output without its timings (the only figures that vary from run to run)."""
    return re.sub(r"[0-9.]+ (ms|s)\b", r"<t> \1", out)


def pc_flags(env, *args):
    got = run(["pkg-config", *args], env=env)
    return got.returncode, got.stdout.split(), got.stderr


with tempfile.TemporaryDirectory() as stage:
    inst = run(["meson", "install", "-C", build, "--destdir", stage, "--no-rebuild", "--quiet"])
    check(inst.returncode == 0, "meson install --destdir", inst.stdout + inst.stderr)
    files = json.loads(run(["meson", "introspect", build, "--installed"]).stdout).values()
    pcdir = next(os.path.dirname(f) for f in files if f.endswith("/foldopt.pc"))
    with open(stage + pcdir + "/foldopt.pc") as f:
        relocatable = "${pcfiledir}" in f.read()
    env = dict(os.environ, PKG_CONFIG_PATH=stage + pcdir)
    env.pop("PKG_CONFIG_SYSROOT_DIR", None)
    if not relocatable:  # a build folder set up before pkgconfig.relocatable was the default
        env["PKG_CONFIG_SYSROOT_DIR"] = stage

    rc, cflags, err = pc_flags(env, "--cflags", "foldopt")
    check(rc == 0 and cflags and all(f.startswith("-I" + stage) for f in cflags),
          "pkg-config --cflags foldopt: only the installed include folder", " ".join(cflags) + err)
    rc, libs, err = pc_flags(env, "--libs", "foldopt")
    libdir = next((f[2:] for f in libs if f.startswith("-L")), "")
    check(rc == 0 and len(libs) == 2 and libs[1] == "-lfoldopt" and
          os.path.isfile(os.path.join(libdir, "libfoldopt.so")),
          "pkg-config --libs foldopt: -L of the installed library and -lfoldopt",
          " ".join(libs) + err)
    if relocatable:
        rc, prefix, err = pc_flags(env, "--variable=prefix", "foldopt")
        check(rc == 0 and prefix and os.path.realpath(prefix[0]).startswith(
            os.path.realpath(stage)), "the .pc file's prefix is where the tree is",
            " ".join(prefix) + err)

    # every installed header compiles alone (it includes what it needs; nothing of Ipopt,
    # SuiteSparse, cJSON or MPI, whose flags the client does not have)
    headers = sorted(f for f in files if f.endswith(".h") and "/foldopt" in f)
    bad = []
    for header in headers:
        name = header[header.rindex("/include/") + len("/include/"):]
        if name == "foldopt/batch_mpi.h":
            continue  # its clients take MPI's flags from foldopt-mpi.pc
        comp = run([cc, "-xc", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", *cflags, "-"],
                   input=f"#include <{name}>\n")
        if comp.returncode != 0:
            bad.append(f"{name}: {comp.stderr}")
    check(headers and not bad, f"{len(headers)} installed headers compile alone with those flags",
          "\n".join(bad))
    if any(f.endswith("/foldopt/batch_mpi.h") for f in files):
        rc, mpi_cflags, err = pc_flags(env, "--cflags", "foldopt-mpi")
        comp = run([cc, "-xc", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", *mpi_cflags, "-"],
                   input="#include <foldopt/batch_mpi.h>\n")
        check(rc == 0 and comp.returncode == 0,
              "foldopt/batch_mpi.h compiles with pkg-config --cflags foldopt-mpi",
              " ".join(mpi_cflags) + err + comp.stderr)

    for src, built in examples:
        name = os.path.splitext(os.path.basename(src))[0]
        exe = os.path.join(stage, name)
        comp = run([cc, src, "-o", exe, *cflags, *libs, "-Wl,-rpath," + libdir, "-lm"])
        check(comp.returncode == 0, f"{name}.c compiles against the installed tree", comp.stderr)
        out = run([exe]) if comp.returncode == 0 else None
        want = run([built])
        check(out is not None and out.returncode == 0 and want.returncode == 0 and
              steady(out.stdout) == steady(want.stdout),
              f"{name} runs on the installed library and prints what the build's prints",
              (out.stdout + out.stderr if out else "") + "\n# expected:\n" + want.stdout)

    # static linking: libfoldopt.a with the Libs.private of the .pc file
    src = examples[0][0]
    rc, static_libs, err = pc_flags(env, "--static", "--libs", "foldopt")
    archive = os.path.join(libdir, "libfoldopt.a")
    exe = os.path.join(stage, "static_example")
    linked = [archive if f == "-lfoldopt" else f for f in static_libs]
    comp = run([cc, src, "-o", exe, *cflags, *linked, "-lm"])
    out = run([exe]) if comp.returncode == 0 else None
    needed = run(["readelf", "-d", exe]).stdout if out else ""
    check(rc == 0 and out is not None and out.returncode == 0 and "libfoldopt" not in needed,
          f"{os.path.basename(src)} links libfoldopt.a with pkg-config --static and runs",
          " ".join(static_libs) + err + comp.stderr + (out.stderr if out else ""))

    if not python:
        check(True, "the installed Python package", skip="the Python package is not built")
    else:
        pkgdir = next(os.path.dirname(os.path.dirname(f)) for f in files
                      if f.endswith("foldopt/__init__.py"))
        # the package's layout: every module and the extension module in one folder, under
        # the prefix where Debian's python3 looks (lib/python3.X/dist-packages for
        # /usr/local; the lib/python3/dist-packages of Debian's own scheme is for /usr only)
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
        libpath = os.path.dirname(stage + next(f for f in files if "libfoldopt.so" in f))
        imp = run([python, "-c", code], cwd=stage,
                  env=dict(os.environ, LD_LIBRARY_PATH=libpath, PYTHONPATH=stage + pkgdir))
        check(imp.returncode == 0 and imp.stdout.strip() == "ok",
              "the installed foldopt package imports and solves", imp.stderr)

print(f"1..{len(results)}")
