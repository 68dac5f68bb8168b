#!/usr/bin/env python3
"""wpids.py: check digits of Chinese identifiers, and deterministic test data.

A module for the other test tools (mkroster, mksheet, the benchmark) and a
small command line for shell tests:

    wpids.py id 42          a valid GB 11643 resident ID number
    wpids.py uscc 7         a valid GB 32100 unified social credit code
    wpids.py card 3         a valid (Luhn) 19-digit bank card number
    wpids.py cardbank 3     the 12-digit CNAPS code of the bank of card 3
    wpids.py name 3         a synthetic worker name (UTF-8)
    wpids.py check id|uscc|card VALUE    exit 0 if valid, 1 otherwise

The same seed always gives the same value, and different seeds give different
values (for seeds 0 .. 13 439 999 for IDs, 0 .. 99 999 999 for USCCs, and
0 .. 999 999 999 999 for cards), so a benchmark can make a million distinct
workers. Everything generated here is synthetic: no real person's ID number.
Python standard library only.
"""

import os
import sys

# GB 11643-1999: 17 digits, ISO 7064 MOD 11-2 check character.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# GB 32100-2015: 18 characters, MOD 31 check character.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11714-1997 organisation code (characters 9..17 of a USCC): 8 characters
# and a MOD 11 check; only generated here so that generated codes are
# well-formed all the way through, not checked by wagepay.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Administrative divisions of Zhengzhou (Henan), where the demo project is.
REGIONS = ("410183", "410102", "410103", "410105", "410122", "410181")

# Card BINs and the CNAPS code of a branch of the issuing bank in Zhengzhou.
# The CNAPS codes are shaped like real ones (bank class, city, branch, check)
# but are not claimed to be real branches.
CARD_BANKS = (
    ("622848", "103491000018"),	# Agricultural Bank of China
    ("621700", "105491000016"),	# China Construction Bank
    ("622202", "102491000013"),	# Industrial and Commercial Bank of China
    ("621661", "104491000014"),	# Bank of China
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国伟军强磊洋勇杰涛明超华平刚鹏辉飞鑫波斌宇浩凯健"

# ID numbers: seed -> (birth date, sequence) bijectively for seeds below
# ID_SPACE; the multiplier scatters consecutive seeds over dates.
_ID_SPACE = 1000 * 28 * 12 * 40
_ID_MULT = 7919


def id_check(first17):
    """The GB 11643 check character of 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need 17 digits")
    s = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK[s % 11]


def id_valid(s):
    """True if s is 17 digits and the right check character (0-9 or X)."""
    return (len(s) == 18 and s[:17].isdigit() and
            id_check(s[:17]) == s[17])


def uscc_check(first17):
    """The GB 32100 check character of 17 characters of USCC_CHARSET."""
    if len(first17) != 17 or any(c not in USCC_CHARSET for c in first17):
        raise ValueError("need 17 characters of the USCC charset")
    s = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARSET[(31 - s % 31) % 31]


def uscc_valid(s):
    return (len(s) == 18 and all(c in USCC_CHARSET for c in s) and
            uscc_check(s[:17]) == s[17])


def org_check(first8):
    """The GB 11714 check character of an 8-digit organisation code."""
    s = sum(int(c) * w for c, w in zip(first8, ORG_WEIGHTS))
    c = 11 - s % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def luhn_check(digits):
    """The Luhn digit to append to digits."""
    if not digits.isdigit():
        raise ValueError("need digits")
    total = 0
    # Double every second digit counting from the right of the final number,
    # i.e. from the rightmost digit of the payload.
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(s):
    return len(s) >= 2 and s.isdigit() and luhn_check(s[:-1]) == s[-1]


def make_id(seed):
    """A valid resident ID number, distinct for distinct seeds < 13 440 000."""
    if seed < 0:
        raise ValueError("seed must be >= 0")
    n = (seed % _ID_SPACE) * _ID_MULT % _ID_SPACE
    region = REGIONS[(seed // _ID_SPACE) % len(REGIONS)]
    seq, n = n % 1000, n // 1000
    day, n = 1 + n % 28, n // 28
    month, n = 1 + n % 12, n // 12
    year = 1966 + n % 40		# workers born 1966..2005
    first17 = "%s%04d%02d%02d%03d" % (region, year, month, day, seq)
    return first17 + id_check(first17)


def make_uscc(seed):
    """A valid USCC of an enterprise (91...), distinct for seeds < 10**8."""
    if seed < 0:
        raise ValueError("seed must be >= 0")
    org = "%08d" % ((seed * 104729 + 31337) % 10**8)
    region = REGIONS[seed % len(REGIONS)]
    first17 = "91" + region + org + org_check(org)
    return first17 + uscc_check(first17)


def make_card(seed):
    """A valid 19-digit card number, distinct for seeds < 10**12."""
    if seed < 0:
        raise ValueError("seed must be >= 0")
    bin_, _ = CARD_BANKS[seed % len(CARD_BANKS)]
    body = "%012d" % ((seed * 999983 + 271828) % 10**12)
    return bin_ + body + luhn_check(bin_ + body)


def make_cardbank(seed):
    """The CNAPS code (12 digits) of the bank that issued make_card(seed)."""
    return CARD_BANKS[seed % len(CARD_BANKS)][1]


def make_name(seed):
    """A synthetic two- or three-character Chinese name."""
    s = SURNAMES[seed % len(SURNAMES)]
    g1 = GIVEN[(seed // len(SURNAMES)) % len(GIVEN)]
    if seed % 3 == 0:
        return s + g1
    g2 = GIVEN[(seed * 7 + 3) % len(GIVEN)]
    return s + g1 + g2


# ---------------------------------------------------------------------------
# The demo world: tests/data/demo.env and the demo workers that mkroster
# --demo and mksheet --demo share.

def demo_env(path=None):
    """tests/data/demo.env as a dict (KEY=VALUE lines, "quotes" removed)."""
    if path is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "data", "demo.env")
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            k, v = line.split("=", 1)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            env[k.strip()] = v
    return env


# Demo worker i is employed by SUB1 when i is even and by SUB2 when odd, so
# `mkroster --demo 2N` rosters the workers that `mksheet --demo N` pays for
# either subcontractor. Seeds are offset so demo workers never collide with
# the small seeds that hand-written tests use.
DEMO_SEED = 100000


def demo_worker(i, env):
    """Demo worker i as a dict: id, name, employer, card, cardbank,
    signed, entered (the labour contract is signed before entering)."""
    seed = DEMO_SEED + i
    return {
        "id": make_id(seed),
        "name": make_name(seed),
        "employer": env["SUB1_USCC"] if i % 2 == 0 else env["SUB2_USCC"],
        "card": make_card(seed),
        "cardbank": make_cardbank(seed),
        "signed": "2026-02-20",
        "entered": "2026-03-01",
    }


def demo_worker_index(sub_index, k):
    """The worker index of the k-th demo worker of subcontractor sub_index
    (0 for SUB1, 1 for SUB2)."""
    return 2 * k + sub_index


def demo_amount_fen(i):
    """Net monthly pay of demo worker i in fen: 3000.00 .. 7999.99 yuan."""
    return 300000 + (i * 7919) % 500000


_MAKERS = {"id": make_id, "uscc": make_uscc, "card": make_card,
           "cardbank": make_cardbank, "name": make_name}
_CHECKS = {"id": id_valid, "uscc": uscc_valid, "card": luhn_valid}


def _usage():
    sys.stderr.write("usage: wpids.py id|uscc|card|cardbank|name SEED\n"
                     "       wpids.py check id|uscc|card VALUE\n")
    return 2


def main(argv):
    if len(argv) == 2 and argv[0] in _MAKERS:
        try:
            seed = int(argv[1])
        except ValueError:
            return _usage()
        if seed < 0:
            return _usage()
        print(_MAKERS[argv[0]](seed))
        return 0
    if len(argv) == 3 and argv[0] == "check" and argv[1] in _CHECKS:
        try:
            return 0 if _CHECKS[argv[1]](argv[2]) else 1
        except ValueError:
            return 1
    return _usage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
