"""Charts go as albums of up to ten (one send each); a file left over goes alone."""

from __future__ import annotations

import pytest

from bot.delivery.content import Media, in_albums


@pytest.mark.parametrize(
    ("count", "shape"),
    [(0, []), (1, [1]), (2, [2]), (10, [10]), (11, [10, 1]), (23, [10, 10, 3])],
)
def test_files_in_albums_of_up_to_ten(count: int, shape: list[int]) -> None:
    files = [Media("photo", path=f"{n}.png") for n in range(count)]
    contents = in_albums(files)
    assert [len(content.files) for content in contents] == shape
    assert [media for content in contents for media in content.files] == files
    assert all((len(c.files) == 1) == (c.media is not None) for c in contents)
