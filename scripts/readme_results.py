"""Print the README's results tables for the shipped VAE, from a fresh evaluation.

    python scripts/readme_results.py > /tmp/block.md   # then paste between the RESULTS markers

Numbers come only from this run: the commit, date, split, SNR and seed are in each caption.
"""

import time

import vaesep
from vaesep import data
from vaesep.api import PRETRAINED_DIR
from vaesep.checkpoint import load_checkpoint
from vaesep.evaluate import evaluate_separator
from vaesep.metrics import compare_markdown

SPLITS = {
    "test": "Dutch test split (speaker-dependent)",
    "test_cs": "Czech test split (speaker-independent: other actors)",
}


def provenance(name: str = "vae-speech") -> str:
    """Where the shipped model comes from, read from its file: size, objective, training, stopping."""
    path = PRETRAINED_DIR / f"{name}.pt"
    record = load_checkpoint(path)
    config, train, history = record["config"], record["train_config"], record["history"]
    best = record["best_epoch"]  # an index into the per-epoch history
    return (
        f"`vaesep/pretrained/{path.name}` ({path.stat().st_size / 1e6:.1f} MB, {str(record.get('weights_dtype', 'float32')).removeprefix('torch.')} "
        f"weights) is the seed-0 model of the study's selected `vae` configuration: likelihood "
        f"`{config['likelihood']}`, β = {config['beta']:g}, {config['hidden']} hidden units, {config['latent']}-d "
        f"latent, {2 * config['context'] + 1} frames of context; Adam {train['learning_rate']:g}, "
        f"{train['batch_segments']} one-second mixtures per step, {train.get('precision', 'float32')}. "
        f"Training stopped by `{record['stopped']}` after {history['step'][-1]:,} steps "
        f"(budget {train['epochs'] * train['steps_per_epoch']:,}); its best validation SDR, "
        f"{history['valid_sdr'][best]:.2f} dB, came at step {history['step'][best]:,}, and those weights ship."
    )


def main() -> None:
    dataset = data.build("speech", seed=0, snr_db=0.0, fast=False, progress=False)
    methods = {
        "mixture (floor)": vaesep.load_model("mixture", source_names=dataset.source_names),
        "vae-speech": vaesep.load_model("vae-speech", device="cpu"),
        "IRM (reference oracle)": vaesep.load_model("irm", source_names=dataset.source_names),
    }
    print(provenance() + "\n")
    print(f"_Evaluated {time.strftime('%Y-%m-%d', time.gmtime())} with `python scripts/readme_results.py`._\n")
    for split, label in SPLITS.items():
        results = {
            name: evaluate_separator(model, dataset, split, progress=False) for name, model in methods.items()
        }
        print(compare_markdown(results, ("sdr", "sir", "sar", "nsdr", "si_sdr"), f"{label}, 0 dB", weighted=()))
        print()


if __name__ == "__main__":
    main()
