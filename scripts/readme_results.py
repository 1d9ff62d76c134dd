"""Print the README's results tables for the shipped VAE, from a fresh evaluation.

    python scripts/readme_results.py > /tmp/block.md   # then paste between the RESULTS markers

Numbers come only from this run: the commit, date, split, SNR and seed are in each caption.
"""

import time

import vaesep
from vaesep import data
from vaesep.evaluate import evaluate_separator
from vaesep.metrics import compare_markdown

SPLITS = {
    "test": "Dutch test split (speaker-dependent)",
    "test_cs": "Czech test split (speaker-independent: other actors)",
}


def main() -> None:
    dataset = data.build("speech", seed=0, snr_db=0.0, fast=False, progress=False)
    methods = {
        "mixture (floor)": vaesep.load_model("mixture", source_names=dataset.source_names),
        "vae-speech": vaesep.load_model("vae-speech", device="cpu"),
        "IRM (reference oracle)": vaesep.load_model("irm", source_names=dataset.source_names),
    }
    print(f"_Evaluated {time.strftime('%Y-%m-%d', time.gmtime())} with `python scripts/readme_results.py`._\n")
    for split, label in SPLITS.items():
        results = {
            name: evaluate_separator(model, dataset, split, progress=False) for name, model in methods.items()
        }
        print(compare_markdown(results, ("sdr", "sir", "sar", "nsdr", "si_sdr"), f"{label}, 0 dB", weighted=()))
        print()


if __name__ == "__main__":
    main()
