"""Evaluating separators on a data split: the floor sits at the SNR, the oracle far above."""

import numpy as np
import pytest

import vaesep
from vaesep import data
from vaesep.evaluate import evaluate_separator


@pytest.mark.parametrize("snr_db", [0.0, 6.0])
def test_mixture_scores_its_snr_and_the_ratio_mask_scores_high(snr_db):
    dataset = data.build("synthetic", fast=True, snr_db=snr_db, progress=False)
    names = dataset.source_names
    floor = evaluate_separator(vaesep.load_model("mixture", source_names=names), dataset, progress=False)
    ceiling = evaluate_separator(vaesep.load_model("irm", source_names=names), dataset, progress=False)
    first = [row["sdr"] for row in floor.per_item if row["source"] == names[0]]
    second = [row["sdr"] for row in floor.per_item if row["source"] == names[1]]
    # the mixture as an estimate of the target is off by exactly the interferer: SDR = SNR
    assert np.mean(first) == pytest.approx(snr_db, abs=0.5)
    assert np.mean(second) == pytest.approx(-snr_db, abs=0.5)
    ceiling_sdr = np.mean([row["sdr"] for row in ceiling.per_item])
    assert ceiling_sdr > 10.0 and ceiling_sdr > np.mean(first + second) + 9.0
    assert ceiling.metadata["split"] == "test" and ceiling.metadata["snr_db"] == snr_db


def test_a_separator_with_the_wrong_sources_is_refused(synthetic_dataset):
    oracle = vaesep.load_model("irm", source_names=("a", "b", "c"))
    with pytest.raises(ValueError, match="separates 3 sources"):
        evaluate_separator(oracle, synthetic_dataset, progress=False)


def test_every_test_split_and_its_tables(synthetic_dataset):
    from vaesep.evaluate import (
        evaluate_test_splits,
        split_label,
        split_summaries,
        split_tables_markdown,
    )

    names = synthetic_dataset.source_names
    separators = {
        "mixture (floor)": vaesep.load_model("mixture", source_names=names),
        "irm (oracle)": vaesep.load_model("irm", source_names=names),
    }
    results = evaluate_test_splits(separators, synthetic_dataset, max_items=3, progress=False)
    # the synthetic set has no speaker-independent split: only the splits that exist are scored
    assert list(results) == ["test"] and list(results["test"]) == list(separators)
    floor, ceiling = results["test"]["mixture (floor)"], results["test"]["irm (oracle)"]
    assert ceiling.item_values("sdr").mean() > floor.item_values("sdr").mean() + 9.0
    assert len(floor.item_values("sdr", source=names[0])) == 3
    with pytest.raises(ValueError, match="metric"):
        floor.item_values("loudness")

    tables = split_tables_markdown(results, synthetic_dataset, seed=0)
    assert f"synthetic / {split_label(synthetic_dataset, 'test')}, SNR 0 dB, seed 0" in tables
    assert "irm (oracle)" in tables and "mixture (floor)" in tables
    summary = split_summaries(results)["test"]["irm (oracle)"]
    assert summary == ceiling.to_json_dict()["summary"]
