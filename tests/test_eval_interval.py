"""The bootstrap interval eval-topics reports beside macro-F1 and the false-alarm rate."""
import numpy as np

from classify.scoring import bootstrap_interval
from classify.train import metrics


def _noisy(n, err, seed=1):
    rng = np.random.default_rng(seed)
    Y = np.zeros((n, 3), bool)
    Y[np.arange(n), rng.integers(0, 3, n)] = True
    Y[: n // 3] = False                                     # a third are none-items
    flip = rng.random(Y.shape) < err
    return Y, Y ^ flip


def test_perfect_predictions_have_a_degenerate_interval():
    Y, _ = _noisy(90, 0.0)
    ci = bootstrap_interval(Y, Y.copy())
    assert ci == {"macro_f1": [1.0, 1.0], "false_alarm_rate": [0.0, 0.0]}


def test_interval_holds_the_point_estimate_and_narrows_with_more_items():
    widths = []
    for n in (120, 1200):
        Y, P = _noisy(n, 0.1)
        res = metrics([{"lang": "en"}] * n, Y.astype(int), P.astype(float), ["a", "b", "c"])
        lo, hi = res["ci95"]["macro_f1"]
        assert lo < res["macro_f1"] < hi
        flo, fhi = res["ci95"]["false_alarm_rate"]
        assert flo <= res["false_alarm_rate"] <= fhi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2                        # ~1/sqrt(10) of the width


def test_seeded_and_without_none_items():
    Y, P = _noisy(60, 0.2)
    Y[:, 0] = True                                          # no none-items left
    a, b = bootstrap_interval(Y, P), bootstrap_interval(Y, P)
    assert a == b and a["false_alarm_rate"] is None
    assert bootstrap_interval(Y[:0], P[:0]) == {"macro_f1": None, "false_alarm_rate": None}
