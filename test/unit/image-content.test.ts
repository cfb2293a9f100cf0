import assert from 'node:assert/strict';
import { test } from 'node:test';
import { placeholderByContent } from '../../src/image-content.js';

test('placeholders by content: a 1×1 image or an SVG that draws nothing, whatever their names', () => {
    assert.equal(placeholderByContent({ width: 1, height: 1 }), '1×1 px: a spacer or tracking pixel, not a picture');
    assert.equal(placeholderByContent({ width: 1, height: 0 }), '1×0 px: a spacer or tracking pixel, not a picture');
    assert.equal(placeholderByContent({ width: 2, height: 1 }), undefined, 'a 2×1 image is left to the size minimum');
    assert.equal(placeholderByContent({ width: 320, height: 240 }), undefined);
    const empty =
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><defs><path d="M0 0"/></defs></svg>';
    assert.equal(placeholderByContent({ width: 400, height: 300 }, empty), 'an SVG that draws nothing: a placeholder');
    const drawn =
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="10" height="10"/></svg>';
    assert.equal(placeholderByContent({ width: 400, height: 300 }, drawn), undefined);
    assert.equal(placeholderByContent(undefined), undefined, 'an image of unknown size is no placeholder by content');
});
