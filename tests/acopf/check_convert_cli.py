#!/usr/bin/env python3
"""foldopt convert and case formats: a MATPOWER case converted to PowerModels JSON and back
solves and differentiates as the original; the file is per unit as PowerModels writes it;
files in other formats are refused naming the formats foldopt reads; output paths checked.
Usage: check_convert_cli.py FOLDOPT. TAP on stdout."""
import json, os, tempfile

from cli_tap import check, run, close, finish






with tempfile.TemporaryDirectory() as tmp:
    case = os.path.join(tmp, "grid.m")
    run("gen-grid", "--buses", "30", "--seed", "4", "-o", case)
    js, back = os.path.join(tmp, "grid.json"), os.path.join(tmp, "back.m")
    old = os.umask(0o022)
    rc1, _, err1 = run("convert", case, js)
    rc2, _, err2 = run("convert", js, back)
    os.umask(old)
    check("convert .m -> .json -> .m", rc1 == 0 and rc2 == 0, err1 + err2)
    check("the written file has the umask's permissions (0644)",
          rc1 == 0 and (os.stat(js).st_mode & 0o777) == 0o644, oct(os.stat(js).st_mode))
    net = json.load(open(js)) if rc1 == 0 else {}
    check("PowerModels layout: per unit, components keyed by index, loads split from buses",
          net.get("per_unit") is True and net.get("baseMVA") == 100 and
          all(k == str(v["index"]) for t in ("bus", "gen", "branch", "load")
              for k, v in net.get(t, {}).items()) and len(net.get("load", {})) > 0 and
          all("pd" not in b for b in net.get("bus", {}).values()))
    outs = {}
    for f in (case, js, back):
        rc, out, err = run("opf", f, "--json", "--wrt", "pd,rate_a", "--of", "objective")
        outs[f] = json.loads(out) if rc == 0 else None
        check("opf on %s solves" % os.path.basename(f), rc == 0, err)
    ref = outs[case]
    for f in (js, back):
        o = outs[f]
        same = ref and o and close(o["objective"], ref["objective"], 1e-9) and all(
            close(o["gradient"][k][b], ref["gradient"][k][b], 1e-6)
            for k in ("pd", "rate_a") for b in ref["gradient"][k])
        check("%s: the same objective, LMPs and rating duals" % os.path.basename(f), same)
    # formats foldopt does not read
    raw = os.path.join(tmp, "grid.raw")
    open(raw, "w").write("0,   100.00, 33, 0, 1, 60.00     / PSS(R)E-33 RAW created\n")
    rc, out, err = run("opf", raw)
    check("a PSS/E .raw file: refused naming the formats read",
          rc == 2 and "MATPOWER case format version 2" in err and "PowerModels" in err and
          "psse2mpc" in err, err)
    rc, out, err = run("convert", raw, js)
    check("convert refuses it too", rc == 2 and "MATPOWER" in err, err)
    arr = os.path.join(tmp, "list.json")
    open(arr, "w").write("[1, 2, 3]\n")
    rc, out, err = run("opf", arr)
    check("a JSON array: not an object", rc == 2 and "not an object" in err, err)
    bad = os.path.join(tmp, "bad.json")
    net["branch"]["1"]["g_fr"] = 0.01
    open(bad, "w").write(json.dumps(net))
    rc, out, err = run("opf", bad)
    check("a branch with line conductance: refused naming it",
          rc == 2 and 'branch "1"' in err and "g_fr" in err, err)
    rc, out, err = run("convert", case, os.path.join(tmp, "x.raw"))
    check("convert: an output that is neither .json nor .m", rc == 2 and ".json" in err, err)
    rc, out, err = run("convert", case, os.path.join(tmp, "nodir", "x.json"))
    check("convert: an unwritable output", rc == 2 and "cannot write" in err, err)
    rc, out, err = run("convert", case)
    check("convert: OUT required", rc == 2, err)
    # opf -o X.m from a JSON case writes a MATPOWER solved case
    solved = os.path.join(tmp, "solved.m")
    rc, out, err = run("opf", js, "-o", solved)
    rc2, out2, err2 = run("opf", case, "--from-solution", solved, "--json")
    check("a JSON case's solution written as .m imports on the .m case",
          rc == 0 and rc2 == 0 and json.loads(out2)["status"] == "imported", err + err2)

finish()
