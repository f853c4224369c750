"""A self-made captcha: five digits drawn as jittered strokes in an inline SVG, answer kept hashed.

No external service and no text in the SVG source (each glyph is a distorted path), so a script has to read
the picture, and 100,000 possible answers leave nothing to guess. The answer is stored in the session only as
a keyed hash with a nonce; a challenge is used once (the nonce is burned in the rate limiter's storage, Redis
in production, memory in the embedded default, so replaying an old cookie fails).

Offices and schools share one address, so a crowded address asks people to prove they are people instead of
being blocked: solving a challenge earns a **pass** that lets one vote past the per-address limit. The pass
lives in the rate limiter's storage, not in the cookie: the cookie holds only its random id, the stored key
binds it to the address that solved the challenge, and spending it is one atomic increment, so a pass copied to
another client, another address or replayed after use is refused.
"""

from __future__ import annotations

import math
import random
import secrets
import time

from flask import session

from pingxuan.extensions import limiter
from pingxuan.net import client_address
from voting.privacy import keyed_hash

CHALLENGE_KEY = "captcha"
PASS_KEY = "captcha_pass"
CHALLENGE_SECONDS = 300
PASS_SECONDS = 600
DIGITS = 5

# A stroke font on a 0..1 grid (x right, y down): each glyph is a list of polylines.
_GLYPHS: dict[str, list[list[tuple[float, float]]]] = {
    "0": [[(0.2, 0.05), (0.8, 0.05), (0.8, 0.95), (0.2, 0.95), (0.2, 0.05)]],
    "1": [[(0.3, 0.2), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],
    "2": [[(0.2, 0.15), (0.5, 0.05), (0.8, 0.2), (0.8, 0.45), (0.2, 0.95), (0.85, 0.95)]],
    "3": [[(0.2, 0.05), (0.8, 0.05), (0.45, 0.45), (0.8, 0.6), (0.75, 0.9), (0.2, 0.95)]],
    "4": [[(0.7, 0.95), (0.7, 0.05), (0.15, 0.65), (0.9, 0.65)]],
    "5": [[(0.8, 0.05), (0.25, 0.05), (0.2, 0.45), (0.75, 0.5), (0.8, 0.85), (0.2, 0.95)]],
    "6": [[(0.75, 0.05), (0.25, 0.4), (0.2, 0.95), (0.8, 0.95), (0.8, 0.55), (0.22, 0.55)]],
    "7": [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.95)], [(0.35, 0.5), (0.75, 0.5)]],
    "8": [[(0.25, 0.05), (0.75, 0.05), (0.75, 0.45), (0.25, 0.45), (0.25, 0.05)],
          [(0.2, 0.45), (0.8, 0.45), (0.8, 0.95), (0.2, 0.95), (0.2, 0.45)]],
    "9": [[(0.78, 0.45), (0.2, 0.45), (0.2, 0.05), (0.8, 0.05), (0.8, 0.6), (0.3, 0.95)]],
    "+": [[(0.15, 0.5), (0.85, 0.5)], [(0.5, 0.2), (0.5, 0.8)]],
    "-": [[(0.15, 0.5), (0.85, 0.5)]],
    "=": [[(0.15, 0.38), (0.85, 0.38)], [(0.15, 0.65), (0.85, 0.65)]],
    "?": [[(0.2, 0.2), (0.5, 0.05), (0.8, 0.2), (0.5, 0.5), (0.5, 0.7)], [(0.5, 0.88), (0.5, 0.95)]],
}  # fmt: skip

WIDTH, HEIGHT = 200, 64


def _question(rng: random.Random) -> tuple[str, str]:
    """The text to draw and its answer: ``DIGITS`` random digits, typed back as seen."""
    digits = "".join(str(rng.randrange(10)) for _ in range(DIGITS))
    return digits, digits


def render_svg(text: str, rng: random.Random | None = None) -> str:
    """Draw ``text`` with the stroke font: each glyph scaled, rotated and its points jittered, plus noise."""
    rng = rng or random.SystemRandom()
    paths: list[str] = []
    step = (WIDTH - 16) / max(len(text), 1)
    for index, char in enumerate(text):
        size = rng.uniform(30, 40)
        angle = math.radians(rng.uniform(-18, 18))
        cx = 8 + step * (index + 0.5) + rng.uniform(-3, 3)
        cy = HEIGHT / 2 + rng.uniform(-5, 5)
        for line in _GLYPHS[char]:
            points = []
            for x, y in line:
                dx = (x - 0.5) * size * 0.6 + rng.uniform(-1.6, 1.6)
                dy = (y - 0.5) * size + rng.uniform(-1.6, 1.6)
                px = cx + dx * math.cos(angle) - dy * math.sin(angle)
                py = cy + dx * math.sin(angle) + dy * math.cos(angle)
                points.append(f"{px:.1f},{py:.1f}")
            colour = f"hsl({rng.randint(190, 250)},60%,{rng.randint(20, 35)}%)"
            width = rng.uniform(2.2, 3.4)
            paths.append(
                f'<path d="M{" L".join(points)}" stroke="{colour}" stroke-width="{width:.1f}" fill="none" '
                'stroke-linecap="round" stroke-linejoin="round"/>'
            )
    for _ in range(6):  # noise curves across the picture
        x0, y0 = rng.uniform(0, WIDTH * 0.3), rng.uniform(0, HEIGHT)
        x1, y1 = rng.uniform(WIDTH * 0.7, WIDTH), rng.uniform(0, HEIGHT)
        c1 = (rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT))
        c2 = (rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT))
        colour = f"hsl({rng.randint(0, 360)},40%,{rng.randint(55, 75)}%)"
        paths.append(
            f'<path d="M{x0:.1f},{y0:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x1:.1f},{y1:.1f}" '
            f'stroke="{colour}" stroke-width="{rng.uniform(1, 2):.1f}" fill="none"/>'
        )
    rng.shuffle(paths)  # glyph strokes and noise interleaved in the source
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" class="captcha-image"><rect width="100%" height="100%" fill="#f4f6f8"/>{"".join(paths)}</svg>'
    )


def new_challenge() -> str:
    """A fresh question for this session; returns its SVG. A new challenge replaces any earlier one."""
    rng = random.SystemRandom()
    question, answer = _question(rng)
    nonce = secrets.token_hex(8)
    session[CHALLENGE_KEY] = {"h": keyed_hash("captcha", f"{nonce}:{answer}"), "n": nonce, "t": int(time.time())}
    return render_svg(question, rng)


def _storage():
    return limiter.storage if limiter.enabled else None


def _burn(nonce: str) -> bool:
    """Mark the nonce used; False when it was used before (a replayed cookie)."""
    storage = _storage()
    if storage is None:
        return True
    return storage.incr(f"pingxuan-captcha/{nonce}", CHALLENGE_SECONDS * 2) == 1


def _pass_key(pass_id: str) -> str:
    return f"pingxuan-captcha-pass/{pass_id}/{keyed_hash('captcha-pass', client_address())}"


def solve(answer: str) -> bool:
    """Check the answer to the session's challenge (used up either way); a right one earns a pass."""
    challenge = session.pop(CHALLENGE_KEY, None)
    if not isinstance(challenge, dict) or time.time() - challenge.get("t", 0) > CHALLENGE_SECONDS:
        return False
    if not _burn(str(challenge.get("n"))):
        return False
    given = "".join(ch for ch in (answer or "") if ch.isdigit())
    if not secrets.compare_digest(keyed_hash("captcha", f"{challenge.get('n')}:{given}"), challenge.get("h", "")):
        return False
    storage = _storage()
    if storage is not None:
        pass_id = secrets.token_urlsafe(16)
        storage.incr(_pass_key(pass_id), PASS_SECONDS, amount=1)  # 1: earned, not spent
        session[PASS_KEY] = pass_id
    return True


def use_pass() -> bool:
    """Spend this client's pass on one vote past the per-address limit.

    Earned it is 1; spending adds 2, so only the first spend from the address that earned it reads 3. A spent
    pass reads 5, 7, …; a pass id from another address, or one expired, names a key that does not exist, whose
    increments read 2, 4, … and never 3. One atomic increment, in Redis as in memory: parallel spends of one
    copied cookie admit one vote.
    """
    pass_id = session.pop(PASS_KEY, None)
    storage = _storage()
    if not isinstance(pass_id, str) or storage is None:
        return False
    return storage.incr(_pass_key(pass_id), PASS_SECONDS, amount=2) == 3
