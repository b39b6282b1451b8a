#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/{vmp,vmsg}/): valid bodies of
every registry message, and the edge cases the decoders must refuse. Run from anywhere;
the fuzzers grow the corpora from these."""
import json, os, struct

here = os.path.dirname(os.path.abspath(__file__))

def pack(v):
    """A minimal MessagePack encoder (smallest widths), so the seeds need no module."""
    if v is None: return b'\xc0'
    if v is True: return b'\xc3'
    if v is False: return b'\xc2'
    if isinstance(v, int):
        if 0 <= v < 128: return bytes([v])
        if -32 <= v < 0: return struct.pack('b', v)
        if v >= 0:
            for code, fmt, lim in ((0xcc, '>B', 1 << 8), (0xcd, '>H', 1 << 16), (0xce, '>I', 1 << 32)):
                if v < lim: return bytes([code]) + struct.pack(fmt, v)
            return b'\xcf' + struct.pack('>Q', v)
        for code, fmt, lim in ((0xd0, '>b', 1 << 7), (0xd1, '>h', 1 << 15), (0xd2, '>i', 1 << 31)):
            if v >= -lim: return bytes([code]) + struct.pack(fmt, v)
        return b'\xd3' + struct.pack('>q', v)
    if isinstance(v, float): return b'\xcb' + struct.pack('>d', v)
    if isinstance(v, bytes):
        return (b'\xc4' + struct.pack('>B', len(v)) if len(v) < 256 else b'\xc5' + struct.pack('>H', len(v))) + v
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32: return bytes([0xa0 | len(b)]) + b
        if len(b) < 256: return b'\xd9' + struct.pack('>B', len(b)) + b
        return b'\xda' + struct.pack('>H', len(b)) + b
    if isinstance(v, list):
        head = bytes([0x90 | len(v)]) if len(v) < 16 else b'\xdc' + struct.pack('>H', len(v))
        return head + b''.join(pack(x) for x in v)
    if isinstance(v, dict):
        head = bytes([0x80 | len(v)]) if len(v) < 16 else b'\xde' + struct.pack('>H', len(v))
        return head + b''.join(pack(k) + pack(x) for k, x in v.items())
    raise TypeError(v)

bodies = {
    'ping_reply': {'time_ms': 1764075600123, 'version': 1},
    'services_reply': {'services': [{'name': 'echo', 'partitions': 4, 'workers': 2, 'queued': 0, 'in_flight': 3}]},
    'workers_request': {'service': 'echo'},
    'workers_reply': {'workers': [{'service': 'echo', 'name': 'host:12', 'partitions': [0, 3], 'credit': 64,
                                   'in_flight': 1, 'handled': 100, 'idle_ms': 20, 'draining': False}]},
    'stats_reply': {'uptime_ms': 5000, 'requests': 10, 'replies': 9, 'errors': 1, 'drops': 0, 'malformed': 0,
                    'events_in': 3, 'events_out': 6, 'events_dropped': 0,
                    'services': [{'name': 'echo', 'requests': 10, 'replies': 9, 'errors': 1, 'timeouts': 0,
                                  'busy': 0, 'unavailable': 1, 'queued': 0, 'in_flight': 0, 'p50_us': 120,
                                  'p90_us': 300, 'p99_us': 900, 'max_us': 1500}]},
    'echo_request': {'text': 'héllo', 'delay_ms': 10},
    'echo_reply': {'text': 'héllo', 'worker': 'host:1'},
    'fail_request': {'status': 'not_found', 'message': 'no such thing'},
    'whoami_reply': {'user_id': 'vtctl', 'roles': 4, 'trace_id': 't-1', 'key': 'k', 'partition': 3},
    'said': {'text': 'said'},
    'unknown_fields': {'text': 'x', 'future': [1, {'a': [None, 2.5, b'\x00\x01']}]},
    'generic': [None, True, False, -1, 2**64 - 1, -2**63, 0.5, 'é', b'bin', {}, []],
}

edges = {
    'empty': b'',
    'reserved_c1': b'\xc1',
    'array32_lie': b'\xdd\xff\xff\xff\xff',
    'map32_lie': b'\xdf\xff\xff\xff\xff',
    'str32_lie': b'\xdb\xff\xff\xff\xff' + b'abc',
    'depth32': b'\x91' * 32 + b'\x00',
    'depth33': b'\x91' * 33 + b'\x00',
    'bad_utf8': b'\x81\xa4text\xa2\xc3\x28',
    'surrogate': b'\x81\xa4text\xa3\xed\xa0\x80',
    'nul_in_text': b'\x81\xa4text\xa3a\x00b',
    'nan': b'\x81\xa4text\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00',
    'duplicate': b'\x82\xa4text\xa1x\xa4text\xa1y',
    'ext': b'\x81\xa1k\xd4\x01\x00',
    'all_widths': pack([2**7, 2**8, 2**16, 2**32, -33, -2**7 - 1, -2**15 - 1, -2**31 - 1]),
    'float32': b'\xca\x3f\xc0\x00\x00',
    'ext_widths': b'\x96\xd4\x01a\xd5\x01ab\xd6\x01abcd\xd7\x01abcdefgh\xc7\x01\x02a\xc8\x00\x01\x02a',
}

json_seeds = {
    'json_echo': '{"text":"hello","delay_ms":5}',
    'json_bytes': '{"a":"AAEC","b":[1,2.0,-3],"c":{"d":null}}',
    'json_deep': '[' * 33 + ']' * 33,
    'json_strings': '{"s":"[[[[\\"]]]","u":"\\u00e9\\ud834\\udd1e"}',
    'json_numbers': '[0,-0,1e308,-1e-308,9223372036854775807,-9223372036854775808,2.5]',
}

def write(folder, name, data):
    path = os.path.join(here, 'corpus', folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)

for name, body in bodies.items():
    write('vmsg', name + '.mp', pack(body))
    write('vmp', name + '.mp', pack(body))
for name, data in edges.items():
    write('vmsg', name + '.mp', data)
    write('vmp', name + '.mp', data)
for name, text in json_seeds.items():
    write('vmsg', name + '.json', text.encode())
