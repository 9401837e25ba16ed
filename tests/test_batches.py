"""Batches shared among the processes of a cluster: together they are the batches one process sees."""

from __future__ import annotations

import numpy as np

from vae_core.data.batches import ArrayBatches, Share


def test_a_share_is_one_of_equal_parts_in_process_order():
    rows = np.arange(12)
    parts = [Share(index, 3).of(rows) for index in range(3)]
    assert [part.tolist() for part in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert Share().of(rows).tolist() == rows.tolist()


def test_the_shares_of_every_batch_join_into_the_batch_one_process_sees():
    images = np.arange(40, dtype=np.float32).reshape(40, 1, 1, 1)  # each image its own row number
    whole = ArrayBatches(images, 8, shuffle_seed=3, share=Share())
    shared = [ArrayBatches(images, 8, shuffle_seed=3, share=Share(index, 2)) for index in range(2)]
    assert len(whole) == 5 and all(len(batches) == 5 for batches in shared)
    for _epoch in range(2):
        for index in range(len(whole)):
            joined = np.concatenate([batches[index] for batches in shared])
            np.testing.assert_array_equal(joined, whole[index])
        for batches in [whole, *shared]:
            batches.on_epoch_end()
    seen = np.concatenate([whole[index] for index in range(len(whole))]).ravel()
    assert sorted(seen.tolist()) == list(range(40)) and seen.tolist() != list(range(40))  # every row, shuffled


def test_a_conditional_models_two_inputs_go_as_one_element():
    images, conditions = np.zeros((6, 2, 2, 1), np.float32), np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    (element,) = ArrayBatches((images, conditions), 4, None, Share(1, 2))[0]
    x, condition = element
    assert x.shape == (2, 2, 2, 1) and condition.tolist() == [[0, 0, 1], [1, 0, 0]]
