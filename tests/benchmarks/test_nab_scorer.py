"""The project's NAB scorer reproduces NAB's own per-row scores of published detectors."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.nab import corpus, scorer

DETECTORS = ("numenta", "contextOSE", "windowedGaussian", "null")


def test_scaled_sigmoid_landmarks():
    assert float(scorer.scaled_sigmoid(-1.0)) == pytest.approx(0.9866, abs=1e-4)
    assert float(scorer.scaled_sigmoid(0.0)) == 0.0
    assert float(scorer.scaled_sigmoid(3.5)) == -1.0


def test_probationary_length_is_capped_at_750():
    assert scorer.probationary_length(1000) == 150
    assert scorer.probationary_length(100_000) == 750


def test_only_the_earliest_detection_in_a_window_counts():
    sweep = scorer.sweep_file(1000, [(400, 499)])
    profile = scorer.PROFILES["standard"]
    early = np.zeros(1000)
    early[400] = 1.0
    both = early.copy()
    both[450] = 1.0
    assert scorer.score_file(sweep, early, 0.5, profile) == pytest.approx(1.0)
    assert scorer.score_file(sweep, both, 0.5, profile) == pytest.approx(1.0)
    assert scorer.score_file(sweep, np.zeros(1000), 0.5, profile) == -1.0


def test_false_positive_far_from_window_costs_full_weight():
    sweep = scorer.sweep_file(1000, [(400, 409)])
    scores = np.zeros(1000)
    scores[900] = 1.0
    total = scorer.score_file(sweep, scores, 0.5, scorer.PROFILES["reward_low_FP_rate"])
    assert total == pytest.approx(-1.0 - 0.22)


def test_windows_from_labels_are_ten_percent_of_the_file():
    assert scorer.windows_from_labels(1000, [500]) == [(450, 550)]
    assert scorer.windows_from_labels(1000, [500, 520]) == [(475, 545)]


@pytest.fixture(scope="module")
def nab():
    if not (corpus.nab_root() / "labels" / "combined_windows.json").exists():
        pytest.skip(f"shared NAB data not found at {corpus.nab_root()}")
    files = corpus.load_corpus()
    return files, [scorer.sweep_file(len(f.values), f.windows) for f in files]


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("profile", list(scorer.PROFILES))
def test_row_scores_reproduce_nab_saved_st_sums(nab, detector, profile):
    files, sweeps = nab
    threshold = corpus.load_thresholds()[detector][profile]["threshold"]
    saved = dict(tuple(corpus.load_detections(detector).groupby("file", sort=False)))
    for data, sweep in zip(files, sweeps, strict=True):
        frame = saved[data.name]
        ours = scorer.row_scores(
            sweep, frame["anomaly_score"].to_numpy(float), threshold, scorer.PROFILES[profile]
        )
        theirs = frame[f"S(t)_{profile}"].to_numpy(float)
        assert ours.sum() == pytest.approx(theirs.sum(), abs=1e-3), data.name
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_corpus_has_83_windows_and_optimiser_beats_null(nab):
    files, sweeps = nab
    assert sum(s.n_windows for s in sweeps) == 83
    saved = dict(tuple(corpus.load_detections("numenta").groupby("file", sort=False)))
    scores = [saved[f.name]["anomaly_score"].to_numpy(float) for f in files]
    thr, raw = scorer.optimize_threshold(sweeps, scores, scorer.PROFILES["standard"])
    assert raw == pytest.approx(
        scorer.score_corpus(sweeps, scores, thr, scorer.PROFILES["standard"])
    )
    assert scorer.normalize(raw, 83, scorer.PROFILES["standard"]) == pytest.approx(72.44, abs=0.01)
