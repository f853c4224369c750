// Inside WeChat only: ask the server to sign this page's URL for the JS-SDK (the official account's
// jsapi_ticket), load WeChat's JS-SDK, and give a shared link the page's own card: its Open Graph title,
// description, link and image. Elsewhere nothing happens, so the page is the same for everyone (and cacheable).
(function () {
  var me = document.currentScript;
  if (!me || !/MicroMessenger/i.test(navigator.userAgent) || !window.fetch) { return; }
  function meta(selector) {
    var tag = document.querySelector(selector);
    return tag ? (tag.getAttribute("content") || tag.getAttribute("href") || "") : "";
  }
  function absolute(url) {
    if (!url) { return ""; }
    var link = document.createElement("a");
    link.href = url;
    return link.href;
  }
  var page = window.location.href.split("#")[0];
  var share = {
    title: meta('meta[property="og:title"]') || document.title,
    desc: meta('meta[property="og:description"]') || meta('meta[name="description"]'),
    link: absolute(meta('meta[property="og:url"]') || meta('link[rel="canonical"]')) || page,
    imgUrl: absolute(meta('meta[property="og:image"]'))
  };
  fetch(me.dataset.configUrl + "?url=" + encodeURIComponent(page), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (config) {
      if (!config) { return; }
      var sdk = document.createElement("script");
      sdk.src = me.dataset.sdk;
      sdk.onload = function () {
        window.wx.config({
          debug: false, appId: config.appId, timestamp: config.timestamp, nonceStr: config.nonceStr,
          signature: config.signature, jsApiList: config.jsApiList
        });
        window.wx.ready(function () {
          window.wx.updateAppMessageShareData(share);  // a chat or a group
          window.wx.updateTimelineShareData({title: share.title, link: share.link, imgUrl: share.imgUrl});  // Moments
        });
      };
      document.head.appendChild(sdk);
    })
    .catch(function () {});
})();
