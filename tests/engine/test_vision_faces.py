"""Faces with dlib on real pictures: detection (also of small faces), 68 landmarks, identity embeddings, mouth opening."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata
from tests.engine.vision_media import SINGER_TIMES_S, astronaut, music_video_frames, requires_face_models

from scoring.engine.faces import (
    SAME_PERSON_DISTANCE,
    analyse_faces,
    detect_faces,
    embedding_distance,
    identity_similarity,
)

pytestmark = requires_face_models


def test_astronaut_face_box_landmarks_and_embedding() -> None:
    [face] = analyse_faces(astronaut())
    box = face.box
    # The face in skimage's 512 x 512 astronaut photograph spans about x 175-270, y 75-170.
    assert 150 < box.left < 200 and 250 < box.right < 290 and 55 < box.top < 100 and 150 < box.bottom < 190
    assert box.height_fraction == pytest.approx(box.height / 512)
    assert face.landmarks.shape == (68, 2)
    # Landmarks sit on the face in anatomical order: eyes above the nose tip above the mouth above the chin.
    eyes_y, nose_y, mouth_y, chin_y = face.landmarks[36:48, 1].mean(), face.landmarks[33, 1], face.landmarks[48:68, 1].mean(), face.landmarks[8, 1]
    assert eyes_y < nose_y < mouth_y < chin_y
    assert face.embedding is not None and face.embedding.shape == (128,)
    # She smiles with closed lips: a small inner-lip gap relative to the face height.
    assert 0.0 <= face.mouth_opening < 0.12


def test_small_faces_are_found_and_faceless_pictures_give_none() -> None:
    # The astronaut scaled so her face is ~12% of a 480 x 270 frame (a medium-long shot), on a real photo.
    canvas = np.asarray(Image.fromarray(skdata.coffee()).resize((480, 270)))
    small = np.asarray(Image.fromarray(astronaut()).resize((170, 170)))
    frame = canvas.copy()
    frame[60:230, 200:370] = small
    boxes = detect_faces(frame)
    assert len(boxes) == 1
    assert 0.08 < boxes[0].height_fraction < 0.16
    cx, cy = boxes[0].centre
    assert 200 / 480 < cx < 370 / 480 and 60 / 270 < cy < 230 / 270
    for name in ("coffee", "rocket", "chelsea"):
        picture = np.asarray(Image.fromarray(getattr(skdata, name)()).resize((480, 320)))
        assert detect_faces(picture) == [], name
    with pytest.raises(ValueError, match="RGB"):
        detect_faces(np.zeros((90, 160), dtype=np.uint8))


def test_the_same_singer_across_shots_is_recognised_against_another_person() -> None:
    frames = music_video_frames(SINGER_TIMES_S)
    singer = []
    for frame in frames:
        faces = analyse_faces(frame)
        assert faces, "the singer's face is visible at each chosen time"
        assert faces[0].embedding is not None
        singer.append(faces[0].embedding)
    [other] = analyse_faces(astronaut())
    assert other.embedding is not None
    same = [embedding_distance(a, b) for a, b in itertools.combinations(singer, 2)]
    different = [embedding_distance(a, other.embedding) for a in singer]
    # Measured on this 160 x 90 source: same person median ~0.59, against the astronaut ~0.78.
    assert np.median(same) < np.median(different) - 0.1
    assert np.mean(np.array(same) < SAME_PERSON_DISTANCE) > np.mean(np.array(different) < SAME_PERSON_DISTANCE) + 0.3
    assert np.median([identity_similarity(d) for d in same]) > np.median([identity_similarity(d) for d in different]) + 0.15


def test_mouth_opening_varies_while_singing() -> None:
    frames = music_video_frames(SINGER_TIMES_S)
    openings = [analyse_faces(f, embed=False)[0].mouth_opening for f in frames]
    assert max(openings) - min(openings) > 0.05  # open on some syllables, near closed on others


def test_detection_on_several_threads_finds_what_one_thread_finds() -> None:
    # detect_faces_in runs frames on DETECT_THREADS threads, each with a detector of its own from the pool
    # (one dlib detector object must not scan in two threads at once): the same boxes, in input order.
    from scoring.engine.faces import detect_faces_in

    faceless = skdata.coffee()
    frames = [astronaut(), faceless, np.ascontiguousarray(astronaut()[:, ::-1]), faceless, astronaut()]
    one_by_one = [detect_faces(frame) for frame in frames]
    together = detect_faces_in(frames)
    assert [bool(boxes) for boxes in together] == [True, False, True, False, True]
    assert together == one_by_one
