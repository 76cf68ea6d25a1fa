"""What a PNG says made it: IPTC's digital source type in XMP, beside the A1111 and JSON chunks."""

from __future__ import annotations

import io

from PIL import Image

from storage.pngs import COMPOSITE, GENERATED, read_png, source_type, to_png

MADE = {"prompt": "a courier", "seed": 1, "steps": 2, "model_id": "tiny"}


def xmp_of(params: dict[str, object]) -> str | None:
    picture = Image.open(io.BytesIO(to_png(Image.new("RGB", (8, 8)), params)))
    return picture.info.get("XML:com.adobe.xmp")


def test_each_kind_of_picture_says_what_made_it() -> None:
    assert source_type(MADE) == GENERATED  # text to image, a hero, its check, a re-roll
    assert source_type({**MADE, "varied_from": 3, "strength": 0.3}) == GENERATED
    assert source_type({**MADE, "upscaled_from": 3}) == GENERATED
    assert source_type({**MADE, "parent": 3, "strength": 0.6, "mask_hash": "ab"}) == COMPOSITE
    assert source_type({"edited_from": 3}) == COMPOSITE  # an editor's version
    assert source_type({"contact_sheet_of": [1, 2]}) == COMPOSITE
    assert source_type({"mask_cells": [4]}) is None  # a mask is not a picture of anything


def test_the_xmp_reads_back_beside_the_other_chunks() -> None:
    xmp = xmp_of({**MADE, "parent": 3})
    assert xmp is not None and xmp.startswith("<?xpacket begin=")
    assert (
        'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/'
        'compositeWithTrainedAlgorithmicMedia"'
    ) in xmp
    assert xmp_of({"mask_cells": [4]}) is None
    data = to_png(Image.new("RGB", (8, 8)), MADE)
    picture, recipe = read_png(data)
    assert recipe["seed"] == 1 and "parameters" in picture.text  # type: ignore[attr-defined]
