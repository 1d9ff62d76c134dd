"""Separation by inference: SDR and real-time factor against the number of inference iterations.

Runs :func:`vaesep.compare.inference.iteration_curve` (0, 10, 50 and 200 iterations, on 2
threads by default) on a trained generative model (``--data noise``, ``--split test_cs``,
``--snr-db -5`` for the other conditions)::

    python benchmarks/bench_inference.py --model runs/generative-speech.pt --data speech --split test
    python benchmarks/bench_inference.py --fast    # CI-sized: tiny priors trained here in seconds

Prints a Markdown table and writes the rows, the machine and the commit to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from common import machine


def fast_model(dataset):
    """Tiny priors trained for a few seconds: the code path, not a result."""
    from vaesep.models import GenerativeConfig
    from vaesep.priors import train_generative
    from vaesep.train import TrainConfig

    nmf_sources = ("noise",) if "noise" in dataset.source_names else ()
    config = GenerativeConfig(source_names=dataset.source_names, nmf_sources=nmf_sources, hidden=32, latent=8)
    budget = TrainConfig(epochs=3, steps_per_epoch=20, batch_segments=8, learning_rate=3e-3)
    network, _ = train_generative(dataset, config, budget, progress=False, device="cpu")
    return network


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a generative checkpoint or pretrained name (vaesep train --model generative)")
    parser.add_argument("--data", default=None, help="data set (default: speech; --fast: synthetic)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--snr-db", type=float, default=0.0, help="level of the first source over the other")
    parser.add_argument("--iterations", type=int, nargs="+", default=None, help="default 0 10 50 200")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the issue's figure: 2 cores)")
    parser.add_argument("--max-items", type=int, default=None)
    parser.add_argument("--fast", action="store_true", help="fast data, tiny priors trained here, 2 items")
    parser.add_argument("--json", default=None, help="where to write the rows")
    args = parser.parse_args(argv)
    if args.model is None and not args.fast:
        parser.error("give --model (a trained generative checkpoint) or --fast")

    import torch

    import vaesep
    from vaesep import data
    from vaesep.compare.inference import ITERATIONS, iteration_curve, iteration_markdown
    from vaesep.files import atomic_write
    from vaesep.runtime import code_version

    torch.set_num_threads(args.threads or torch.get_num_threads())
    name = args.data or ("synthetic" if args.fast else "speech")
    dataset = data.build(name, snr_db=args.snr_db, fast=args.fast, progress=False)
    network = fast_model(dataset) if args.model is None else vaesep.load_model(args.model, device="cpu").network
    if network.kind != "generative":
        parser.error(f"{args.model} holds a {network.kind!r} model; this measures generative models")
    max_items = args.max_items or (2 if args.fast else None)
    rows = iteration_curve(network, dataset, args.split, tuple(args.iterations or ITERATIONS), max_items=max_items)
    title = f"{name}/{args.split} at {args.snr_db:+g} dB, {args.model or 'tiny fast-mode priors'}, {args.threads} thread(s), commit {code_version()}"
    print(iteration_markdown(rows, title))
    out = Path(args.json or f"results/bench/inference-{name}-{args.split}{args.snr_db:+g}dB.json")
    record = {"rows": rows, "model": args.model, "data": name, "split": args.split, "snr_db": args.snr_db, "fast": args.fast,
              "commit": code_version(), "machine": machine(), "load": os.getloadavg()[0]}
    atomic_write(out, json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
