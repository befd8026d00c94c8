// The dashboard's only stylesheet and script, served from memory: no build step.

export const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--accent:#0550ae;--good:#116329;--good-bg:#dafbe1;--bad:#a40e26;--bad-bg:#ffebe9;--wait:#7d4e00;--wait-bg:#fff8c5;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--panel:#161b22;--accent:#79c0ff;--good:#7ee787;--good-bg:#12261e;--bad:#ffa198;--bad-bg:#3a1418;--wait:#e3b341;--wait-bg:#2e2614}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,[tabindex]:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:6px;z-index:9}
header{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:10px 16px;border-bottom:1px solid var(--line);background:var(--panel)}
.brand{font-weight:700;font-size:18px;text-decoration:none;color:var(--fg)}
nav{display:flex;flex-wrap:wrap;align-items:center;gap:4px 14px;flex:1}
nav ul{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;margin:0;padding:0}
nav a{text-decoration:none;padding:4px 2px;display:inline-block}
nav a[aria-current=page]{font-weight:700;border-bottom:3px solid var(--accent)}
.logout{margin-left:auto}
main{padding:12px 16px 40px;max-width:1200px;margin:0 auto}
h1{font-size:22px;margin:8px 0 12px}h2{font-size:17px;margin:22px 0 8px}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:14px}
caption{text-align:left;padding:8px 10px;font-weight:600;background:var(--panel)}
th,td{text-align:left;padding:6px 10px;border-top:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);white-space:nowrap}tbody th{color:var(--fg);white-space:normal}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:var(--muted)}
.plain{list-style:none;margin:0;padding:0}
pre.line{margin:0;padding:0;border:0;background:none}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;border:1px solid currentColor}
.badge.good{color:var(--good);background:var(--good-bg)}.badge.bad{color:var(--bad);background:var(--bad-bg)}.badge.wait{color:var(--wait);background:var(--wait-bg)}
.notice{padding:8px 12px;border-radius:6px;border:1px solid}.notice.ok{color:var(--good);background:var(--good-bg)}.notice.error{color:var(--bad);background:var(--bad-bg)}
form.inline{display:inline}
.filters,.row{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;margin:8px 0 12px}
.field{display:flex;flex-direction:column;gap:2px}label{font-size:13px;color:var(--muted)}.login label{font-size:15px;color:var(--fg)}
input,select,button{font:inherit;padding:6px 9px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-height:36px}
button{background:var(--accent);color:var(--bg);border-color:var(--accent);cursor:pointer;font-weight:600}
button.secondary{background:var(--bg);color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad);color:var(--bg)}
button.link{background:none;border:none;color:var(--accent);padding:4px;min-height:0;font-weight:400;text-decoration:underline}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-word}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin:8px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px;background:var(--panel)}.card b{display:block;font-size:22px}.card b.mono{font-size:15px;padding:6px 0;word-break:break-all}.card span{display:block}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg.chart{width:100%;height:auto;display:block}svg.chart text{fill:var(--muted);font-size:10px}
svg.chart .axis{stroke:var(--line)}svg.chart .s0{stroke:var(--accent);fill:none;stroke-width:1.5}svg.chart .s1{stroke:var(--bad);fill:none;stroke-width:1.5}
svg.chart .b0,svg.chart .d0{fill:var(--accent)}svg.chart .d1{fill:var(--bad)}svg.chart .b1{fill:var(--bad)}
.legend{font-size:12px;color:var(--muted)}.legend .k0{color:var(--accent)}.legend .k1{color:var(--bad)}
.timeline{display:flex;flex-wrap:wrap;gap:3px;margin:6px 0}.timeline a{width:14px;height:22px;border-radius:2px;display:block}
.timeline .good{background:var(--good)}.timeline .bad{background:var(--bad)}.timeline .wait{background:var(--wait)}
.live{font-size:13px;color:var(--muted)}tr.new td{animation:flash 2s}
@keyframes flash{from{background:var(--wait-bg)}to{background:transparent}}
@media (prefers-reduced-motion:reduce){tr.new td{animation:none}}
.login{max-width:360px;margin:40px auto}.login form{display:flex;flex-direction:column;gap:12px}
@media (max-width:600px){header{padding:8px 10px}nav{flex-basis:100%}nav,nav ul{gap:2px 12px}.logout{margin-left:0}main{padding:10px}th,td{padding:5px 6px}.hide-sm{display:none}}
`;

// Progressive enhancement only: every page works without it.
export const JS = `
(function(){
  var tbody=document.querySelector("tbody[data-feed]");
  if(tbody){
    var status=document.getElementById("live-status"),toggle=document.getElementById("live-toggle"),paused=false,timer=null,busy=false;
    function say(t){if(status)status.textContent=t}
    function poll(){
      if(paused||busy||document.hidden)return;busy=true;
      var url=tbody.getAttribute("data-feed")+"after="+encodeURIComponent(tbody.getAttribute("data-cursor"));
      fetch(url,{headers:{accept:"application/json"},credentials:"same-origin"}).then(function(r){
        if(r.status===401){paused=true;say("Session ended: reload to log in again.");return null}
        if(!r.ok)throw new Error("HTTP "+r.status);return r.json();
      }).then(function(d){
        if(!d)return;tbody.setAttribute("data-cursor",d.cursor);
        if(d.count){var empty=tbody.querySelector("tr.empty");if(empty)empty.remove();
          tbody.insertAdjacentHTML("afterbegin",d.html);
          while(tbody.rows.length>500)tbody.deleteRow(-1);
          say(d.count+" new at "+new Date().toLocaleTimeString());}
      }).catch(function(e){say("Live update failed ("+e.message+"); retrying.")}).then(function(){busy=false});
    }
    timer=setInterval(poll,1500);
    if(toggle){toggle.hidden=false;toggle.addEventListener("click",function(){paused=!paused;toggle.textContent=paused?"Resume live":"Pause live";toggle.setAttribute("aria-pressed",String(paused));say(paused?"Paused.":"Following new invocations.");if(!paused)poll()})}
    say("Following new invocations.");
  }
  document.addEventListener("submit",function(e){var f=e.target,m=f.getAttribute&&f.getAttribute("data-confirm");if(m&&!window.confirm(m))e.preventDefault()});
  document.querySelectorAll("select[data-autosubmit]").forEach(function(s){s.addEventListener("change",function(){s.form.requestSubmit()})});
})();
`;
