import numpy as np

from qa.readers.spans import Window, decode_window, label_window


def window():
    # [CLS] q q [SEP] c0 c1 c2 c3 [SEP]; context "aa bb cc dd"
    offs = [None, None, None, None, (0, 2), (3, 5), (6, 8), (9, 11), None]
    return Window(0, list(range(9)), [0] * 4 + [1] * 5, offs)


def test_decode_picks_best_legal_span():
    w = window()
    s = np.full(9, -5.0)
    e = np.full(9, -5.0)
    s[5], e[6] = 4.0, 4.0      # "bb cc"
    s[1], e[1] = 9.0, 9.0      # question tokens must never be chosen
    e[4] = 6.0                 # end before start must never be chosen
    best = decode_window(w, s, e, max_answer_tokens=5)[0]
    assert (best.start, best.end) == (3, 8)
    assert best.score == 8.0 and best.null_score == -10.0
    assert best.margin == 18.0


def test_max_answer_length():
    w = window()
    s = np.zeros(9)
    e = np.zeros(9)
    s[4], e[7] = 5.0, 5.0
    spans = decode_window(w, s, e, max_answer_tokens=2)
    assert all(sp.end - sp.start <= 5 for sp in spans)


def test_null_margin_negative_when_cls_wins():
    w = window()
    s = np.zeros(9)
    e = np.zeros(9)
    s[0], e[0] = 10.0, 10.0
    assert decode_window(w, s, e)[0].margin < 0


def test_label_window():
    w = window()
    assert label_window(w, 3, 8) == (5, 6)
    assert label_window(w, 4, 5) == (5, 5)  # inside a token
    w2 = Window(0, list(range(6)), [0] * 6, [None, None, (0, 2), (3, 5), None, None])
    assert label_window(w2, 6, 8) == (0, 0)  # answer outside this window
