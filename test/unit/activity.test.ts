import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Page, Request as PwRequest } from 'playwright';
import { PageActivity } from '../../src/pages/activity.js';

/** A request as the tracker reads it: its URL and resource type. */
const request = (url: string, type: string): PwRequest => ({ url: () => url, resourceType: () => type }) as PwRequest;
const answer = (req: PwRequest) => ({ request: () => req });

test('activity: a media request keeps the page busy until its answer comes, not while it streams', () => {
    const events = new EventEmitter();
    const activity = new PageActivity();
    activity.attach(events as unknown as Pick<Page, 'on'>);
    const t0 = Date.now();
    const video = request('http://site.test/intro.mp4', 'media');
    events.emit('request', video);
    assert.equal(activity.busy(t0 + 100), true, 'unanswered: the capture has not seen it yet');
    events.emit('response', answer(video));
    assert.equal(activity.busy(t0 + 100), false, 'answered: its body may stream for minutes');
    // Media that never answers stops counting, as any request does after BUSY_MAX_MS.
    events.emit('request', request('http://site.test/stuck.mp4', 'media'));
    assert.equal(activity.busy(t0 + 100), true);
    assert.equal(activity.busy(t0 + 3500), false);
    // A script stays busy until it has finished, not only until its headers came.
    const script = request('http://site.test/player.js', 'script');
    events.emit('request', script);
    events.emit('response', answer(script));
    assert.equal(activity.busy(Date.now() + 100), true);
    events.emit('requestfinished', script);
    // An image only fills the page in: never busy.
    events.emit('request', request('http://site.test/poster.jpg', 'image'));
    assert.equal(activity.busy(Date.now() + 3500), false);
    assert.ok(activity.lastNewMediaRequestAt >= t0);
});
