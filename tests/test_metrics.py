from qa.evaluation.metrics import exact_match, expected_calibration_error, f1_score, max_over_references, normalize_answer


def test_normalisation():
    assert normalize_answer("The  Quick, brown fox!") == "quick brown fox"


def test_em_f1():
    assert exact_match("the Eiffel Tower", "Eiffel tower") == 1.0
    assert round(f1_score("Eiffel Tower in Paris", "the Eiffel Tower"), 3) == 0.667
    assert max_over_references(f1_score, "Paris", ["London", "paris"]) == 1.0
    assert max_over_references(f1_score, "", []) == 1.0
    assert max_over_references(f1_score, "x", []) == 0.0


def test_ece():
    assert expected_calibration_error([0.9] * 10, [1] * 9 + [0]) < 1e-9
    assert abs(expected_calibration_error([1.0] * 4, [0] * 4) - 1.0) < 1e-9
