// The embeddable chat widget. One tag on the firm's site:
//
//   <script src="https://chat.example.com/chat/widget.js" defer></script>
//
// It adds a launcher button and a panel that frames routerd's own chat
// page (/chat/?embed=1), so the conversation, its token and its socket
// stay on routerd's origin. It loads no code from any other origin.
(function () {
  'use strict';
  var me = document.currentScript;
  if (!me || document.getElementById('switchboard-chat-launcher')) return;
  var origin = new URL(me.src, location.href).origin;
  // The sites that may frame the chat (chat.allowed_origins), filled in
  // when routerd serves this file. On any other site the frame would be
  // refused by its frame-ancestors: show nothing rather than a broken
  // panel, and say why in the console. The script's data-state tells.
  var allowed = /*ALLOWED_ORIGINS*/[];
  if (location.origin !== origin && allowed.indexOf(location.origin) < 0) {
    me.setAttribute('data-state', 'refused');
    if (window.console) console.warn('Switchboard chat: ' + location.origin + ' is not in chat.allowed_origins of ' + origin + '; the chat is not shown.');
    return;
  }
  var OPEN = 'switchboard-chat-open';
  var frame = null;

  var launcher = document.createElement('button');
  launcher.id = 'switchboard-chat-launcher';
  launcher.type = 'button';
  launcher.textContent = 'Chat with us';
  launcher.setAttribute('aria-expanded', 'false');
  css(launcher, {
    position: 'fixed', right: '20px', bottom: '20px', zIndex: '2147483000',
    padding: '12px 18px', border: '0', borderRadius: '24px', cursor: 'pointer',
    background: '#1f5fbf', color: '#fff', font: '600 15px system-ui, sans-serif',
    boxShadow: '0 4px 14px rgba(0,0,0,.25)'
  });

  var panel = document.createElement('div');
  panel.id = 'switchboard-chat-panel';
  css(panel, {
    position: 'fixed', right: '20px', bottom: '76px', zIndex: '2147483000',
    width: '370px', maxWidth: 'calc(100vw - 40px)', height: '560px', maxHeight: 'calc(100vh - 100px)',
    borderRadius: '12px', overflow: 'hidden', boxShadow: '0 8px 30px rgba(0,0,0,.3)',
    background: '#fff', display: 'none'
  });

  function css(el, s) {
    for (var k in s) el.style[k] = s[k];
  }

  function toggle(open) {
    if (open && !frame) {
      frame = document.createElement('iframe');
      frame.src = origin + '/chat/?embed=1';
      frame.title = 'Chat';
      css(frame, { border: '0', width: '100%', height: '100%', display: 'block' });
      panel.appendChild(frame);
    }
    panel.style.display = open ? 'block' : 'none';
    launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
    try {
      if (open) sessionStorage.setItem(OPEN, '1');
      else sessionStorage.removeItem(OPEN);
    } catch (e) { /* storage unavailable */ }
  }

  launcher.addEventListener('click', function () {
    toggle(panel.style.display === 'none');
  });
  window.addEventListener('message', function (e) {
    if (e.origin !== origin || !frame || e.source !== frame.contentWindow) return;
    if (e.data && e.data.type === 'switchboard-chat:minimize') toggle(false);
  });

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(launcher);
    me.setAttribute('data-state', 'ready');
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem(OPEN) === '1'; } catch (e) { /* none */ }
    if (wasOpen) toggle(true);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
