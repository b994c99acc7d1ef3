// The composer: the claim, X's weighted counter (mirrors web/textcount.py), saved replies, preview, one submit.
(function () {
  "use strict";
  var LIGHT = [[0x0000, 0x10FF], [0x2000, 0x200D], [0x2010, 0x201F], [0x2032, 0x2037]];
  var EMOJI = [[0x1F000, 0x1FAFF], [0x2600, 0x27BF], [0x2300, 0x23FF], [0x2B00, 0x2BFF], [0x1F1E6, 0x1F1FF]];
  var FLAGS = [[0x1F1E6, 0x1F1FF]];
  var MODIFIERS = [[0x1F3FB, 0x1F3FF], [0xE0020, 0xE007F]];
  var MARKS = [0xFE0E, 0xFE0F, 0x20E3];
  var ZWJ = 0x200D;
  var KEYCAP = "0123456789#*";
  var URL_WEIGHT = 23;
  var URL_RE = /https?:\/\/[^\s]+|\bwww\.[^\s]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|ly)(?:\/[^\s]*)?/gi;

  function within(code, ranges) {
    return ranges.some(function (r) { return code >= r[0] && code <= r[1]; });
  }

  function startsEmoji(codes, i) {
    if (within(codes[i], EMOJI)) return true;
    return KEYCAP.indexOf(String.fromCodePoint(codes[i])) >= 0 && i + 1 < codes.length &&
      MARKS.indexOf(codes[i + 1]) >= 0;
  }

  function emojiEnd(codes, i) {
    var flag = within(codes[i], FLAGS);
    i += 1;
    if (flag && i < codes.length && within(codes[i], FLAGS)) return i + 1;
    while (i < codes.length) {
      if (codes[i] === ZWJ && i + 1 < codes.length) i += 2;
      else if (MARKS.indexOf(codes[i]) >= 0 || within(codes[i], MODIFIERS)) i += 1;
      else break;
    }
    return i;
  }

  function weigh(text) {
    var codes = Array.from(text).map(function (c) { return c.codePointAt(0); });
    var total = 0, i = 0;
    while (i < codes.length) {
      if (startsEmoji(codes, i)) { i = emojiEnd(codes, i); total += 2; }
      else { total += within(codes[i], LIGHT) ? 1 : 2; i += 1; }
    }
    return total;
  }

  function weightedLength(text) {
    text = text.normalize("NFC");
    var total = 0, last = 0, match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      total += weigh(text.slice(last, match.index)) + URL_WEIGHT;
      last = match.index + match[0].length;
    }
    return total + weigh(text.slice(last));
  }

  // Bluesky and Mastodon count grapheme clusters (what a reader sees as one character);
  // Mastodon counts every link as 23 and a mention of user@server as @user.
  var MASTODON_URL = /https?:\/\/\S+/g;
  var MASTODON_MENTION = /(@[\w.]+)@[\w.-]*\w/g;

  function graphemes(text) {
    if (typeof Intl === "undefined" || !Intl.Segmenter) return Array.from(text).length;
    return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)).length;
  }

  function mastodonLength(text) {
    var links = 0;
    text = text.replace(MASTODON_URL, function () { links += 1; return ""; });
    return graphemes(text.replace(MASTODON_MENTION, "$1")) + links * URL_WEIGHT;
  }

  function length(text, platform) {
    if (platform === "x") return weightedLength(text);
    if (platform === "bluesky") return graphemes(text);
    if (platform === "mastodon") return mastodonLength(text);
    return Array.from(text).length;
  }

  window.EarshotText = { weightedLength: weightedLength, length: length };

  // Take the claim as the composer opens, with a POST: a page view never changes
  // data. Without script the form's own button does the same.
  var claimForm = document.getElementById("claim-form");
  if (claimForm) {
    Earshot.post(claimForm.action).then(function (result) {
      document.getElementById("claim-status").textContent = result.data.message || "The claim was not taken.";
      var button = document.getElementById("claim-button");
      if (result.data.claimed && button) button.remove();
      if (result.data.claimed) claimForm.dataset.claimed = "";
    }).catch(function () { /* offline for a moment: the button still claims */ });
  }

  var body = document.getElementById("reply-body");
  if (!body) return;
  var counter = document.getElementById("counter");
  var preview = document.getElementById("preview");
  var limit = Number(body.dataset.limit);

  function update() {
    var size = length(body.value, body.dataset.platform);
    counter.textContent = size;
    counter.parentNode.classList.toggle("over", size > limit);
    preview.textContent = body.value;
  }

  var saved = document.getElementById("saved-reply");
  if (saved) {
    saved.addEventListener("change", function () {
      var option = saved.options[saved.selectedIndex];
      if (option && option.dataset.body) { body.value = option.dataset.body; update(); body.focus(); }
    });
  }
  body.addEventListener("input", update);
  update();

  var form = document.getElementById("reply-form");
  form.addEventListener("submit", function () {
    // The server's idempotency key is the real guard; this just stops accidental repeats.
    window.setTimeout(function () { document.getElementById("send-reply").disabled = true; }, 0);
  });
})();
