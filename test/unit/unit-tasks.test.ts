import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SegmentPlan, TrackPlan, VideoPlan } from '../../src/model.js';
import {
    continuationRequest,
    FIRST_BATCH,
    lanesPerRequest,
    MAX_UNITS_PER_REQUEST,
    unitRequests,
    unitsPerRequest,
} from '../../src/download/unit-tasks.js';

test('download requests: about one per lanesPerRequest connections, never fewer, in playback order', () => {
    // Lanes: enough that the first batch of a video's requests covers the connections.
    assert.equal(lanesPerRequest(64), 4, '16 requests of 4 lanes for 64 connections');
    assert.equal(lanesPerRequest(FIRST_BATCH), 1);
    assert.equal(lanesPerRequest(FIRST_BATCH + 1), 2);
    assert.equal(lanesPerRequest(1), 1);
    assert.equal(lanesPerRequest(1000), 63);
    for (const max of [1, 4, 16, 17, 64, 200, 1000])
        assert.ok(Math.ceil(max / lanesPerRequest(max)) <= FIRST_BATCH, `${max}: the first batch covers them`);

    assert.equal(unitsPerRequest(10, 64), 1, 'short videos: one unit per request');
    assert.equal(unitsPerRequest(330, 64), 20, 'rounded down: 17 requests for 16 × 4 lanes');
    assert.equal(unitsPerRequest(33, 64), 2, 'never fewer requests than 64 / 4');
    assert.equal(unitsPerRequest(3600, 64), MAX_UNITS_PER_REQUEST, '225 per request, capped');
    assert.equal(unitsPerRequest(1000, 16), 62, '16 requests of one lane');
    assert.equal(unitsPerRequest(100_000, 64), MAX_UNITS_PER_REQUEST, 'queued requests stay small');
    assert.equal(unitsPerRequest(330, 1), MAX_UNITS_PER_REQUEST);
    assert.equal(unitsPerRequest(0, 64), 1);

    const seg = (i: number): SegmentPlan => ({
        seq: 100 + i,
        url: `https://cdn.example/v/${i}.m4s`,
        durationSecs: 2,
        discontinuity: false,
        init: 0,
    });
    const segments = Array.from({ length: 7 }, (_, i) => seg(i));
    const inits = [{ url: 'https://cdn.example/v/init.mp4' }];
    const main: TrackPlan = {
        name: 'v',
        sourceUrl: 'https://cdn.example/v.m3u8',
        segments,
        inits,
        durationSecs: 14,
        live: false,
        bytes: 'segments',
    };
    const audio: TrackPlan = {
        ...main,
        name: 'a',
        sourceUrl: 'https://cdn.example/a.m3u8',
        inits: [],
        segments: [seg(0), seg(1)],
    };
    const video: VideoPlan = {
        format: 'hls',
        url: main.sourceUrl,
        variantUrl: main.sourceUrl,
        tracks: [main, audio],
        delivery: 'remux',
        relatedUrls: [],
    };
    // 8 video units + 2 audio units, ⌊10 / 3⌋ → 3 per request.
    const requests = unitRequests('vid', video, 3, 'sess');
    assert.deepEqual(
        requests.map((r) => r.userData?.units.map((u) => u.unit)),
        [
            ['v-init-000000.bin', 'v-seg-000000.bin', 'v-seg-000001.bin'],
            ['v-seg-000002.bin', 'v-seg-000003.bin', 'v-seg-000004.bin'],
            ['v-seg-000005.bin', 'v-seg-000006.bin', 'a-seg-000000.bin'],
            ['a-seg-000001.bin'],
        ],
    );
    assert.equal(new Set(requests.map((r) => r.uniqueKey)).size, requests.length, 'unique keys');
    assert.ok(
        requests.every(
            (r) => r.url === r.userData?.units[0]?.url && r.userData.proxySession === 'sess' && r.skipNavigation,
        ),
    );
    // A subtitle track's units go first, whatever its place among the tracks: the live remux takes them in from its start.
    const subtitles = {
        ...audio,
        name: 's0' as const,
        inits: [],
        bytes: 'text' as const,
        subtitles: 'webvtt' as const,
    };
    const withSubtitles = unitRequests('vid', { ...video, tracks: [main, audio, subtitles] }, 3, 'sess');
    assert.deepEqual(withSubtitles.flatMap((r) => r.userData?.units.map((u) => u.unit) ?? []).slice(0, 4), [
        's0-seg-000000.bin',
        's0-seg-000001.bin',
        'v-init-000000.bin',
        'v-seg-000000.bin',
    ]);
});

test('a request out of time hands back only what nobody stored or holds, as one new request', () => {
    const unit = (i: number) => ({ unit: `v-seg-00000${i}.bin`, url: `https://cdn.example/${i}.ts` });
    const task = { kind: 'units' as const, videoId: 'vid', units: [0, 1, 2, 3, 4].map(unit), proxySession: 'sess' };
    const stored = new Set(['v-seg-000000.bin']);
    const holders = new Map([
        ['v-seg-000001.bin', 'other'],
        ['v-seg-000003.bin', 'me'],
    ]);
    const request = continuationRequest(
        task,
        'me',
        (u) => stored.has(u),
        (u) => holders.get(u),
    );
    assert.deepEqual(
        request?.userData?.units.map((u) => u.unit),
        ['v-seg-000002.bin', 'v-seg-000004.bin'],
    );
    assert.equal(request?.url, 'https://cdn.example/2.ts');
    assert.equal(request?.userData?.proxySession, 'sess');
    assert.notEqual(
        request?.uniqueKey,
        continuationRequest(
            task,
            'another',
            (u) => stored.has(u),
            (u) => holders.get(u),
        )?.uniqueKey,
        'a key per request that hands back',
    );
    assert.equal(
        continuationRequest(
            task,
            'me',
            () => true,
            () => undefined,
        ),
        undefined,
        'all stored: nothing to queue',
    );
});
