/* {{ config.PUBLICATION_NAME|replace("*/", "") }}: donation banner for article pages. It loads nothing else and sets no cookies. */
{% set css %}{% include "embed/banner.css" %}{% endset -%}
(function () {
  "use strict";
  var COPY = {{ copy }};
  var GIVE = {{ give_url|tojson }};
  var DEFAULT_LANG = {{ default_lang|tojson }};
  var CSS = {{ css|tojson }};
  var ATTRS = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];

  // currentScript is the tag running now, also when async; the fallback is for old browsers.
  var tag = document.currentScript;
  if (!tag) {
    var tags = document.querySelectorAll("script[src^='" + GIVE.replace(/\/give$/, "/embed.js") + "']");
    for (var i = 0; i < tags.length && !tag; i++) { if (!tags[i].__supportBanner) { tag = tags[i]; } }
  }
  // Without Shadow DOM (pre-2018 browsers) our styles would leak into the article: no banner.
  if (!tag || tag.__supportBanner || !tag.parentNode || !Element.prototype.attachShadow) { return; }
  tag.__supportBanner = true;

  function has(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  function data(name) { return (tag.getAttribute("data-" + name) || "").trim(); }

  function language() {
    var wanted = [data("lang"), document.documentElement.lang, navigator.language];
    for (var i = 0; i < wanted.length; i++) {
      var code = (wanted[i] || "").toLowerCase().split("-")[0];
      if (code && has(COPY, code)) { return code; }
    }
    return "";
  }

  function link(lang) {
    var url = new URL(GIVE);
    var params = url.searchParams;
    if (data("campaign")) { params.set("campaign", data("campaign")); }
    // The article is the attribution; its fragment is a reading position, not a source.
    params.set("article_url", location.href.split("#")[0]);
    if (document.referrer) { params.set("referrer", document.referrer); }
    ATTRS.forEach(function (key) {
      var value = data(key.replace("_", "-"));
      if (value) { params.set(key, value); }
    });
    // Only a language the page or reader asked for: the form otherwise follows the browser.
    if (lang) { params.set("lang", lang); }
    return url.href;
  }

  function el(name, className, text) {
    var node = document.createElement(name);
    node.className = className;
    if (text) { node.textContent = text; }
    return node;
  }

  var lang = language();
  var table = COPY[lang || DEFAULT_LANG];
  var copy = has(table, data("campaign")) ? table[data("campaign")] : table[""];

  // Styles on the host and a shadow root keep the article's CSS out and ours in. Both go
  // through the CSSOM, which an article's Content-Security-Policy does not block, as it does
  // a style attribute or a <style> without its nonce (older browsers get one with the tag's).
  var host = document.createElement("support-banner");
  host.style.cssText = "all:initial;display:block;margin:1.5em 0";
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    if (tag.nonce) { style.nonce = tag.nonce; }
    style.textContent = CSS;
    root.appendChild(style);
  }
  var box = el("aside", "b");
  box.setAttribute("lang", lang || DEFAULT_LANG);
  box.setAttribute("aria-labelledby", "support-banner-headline");
  var headline = el("p", "h", copy.headline);
  headline.id = "support-banner-headline";
  var button = el("a", "a", copy.button);
  button.href = link(lang);
  box.appendChild(headline);
  box.appendChild(el("p", "t", copy.body));
  box.appendChild(button);
  root.appendChild(box);
  tag.parentNode.insertBefore(host, tag.nextSibling);
})();
