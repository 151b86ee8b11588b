#!/usr/bin/env python3
# Writes docs/configuration.md from the options classes' XML docs and defaults, and the meter's
# instruments from where they are created: python3 eng/make-configuration-doc.py > docs/configuration.md
# (run from the repository root). A test checks that every options property is in the document.
import re, html
import os
root=os.path.join(os.getcwd(), 'src') + '/'
sections=[
 ('CostModel','CostModel/CostModelOptions.cs','CostModelOptions'),
 ('CostModel:Collection','CostModel/Collection/CollectionOptions.cs','CollectionOptions'),
 ('CostModel:Scoring','CostModel/Scoring/ScoringOptions.cs','ScoringOptions'),
 ('CostModel:Scoring:Nodes:{node}','CostModel/Scoring/ScoringOptions.cs','NodeScoringOverride'),
 ('CostModel:Pricing','CostModel/Pricing/PricingOptions.cs','PricingOptions'),
 ('CostModel:Pricing:UnknownPriceFallback','CostModel/Pricing/PricingOptions.cs','FallbackPrice'),
 ('CostModel:Routing','CostModel/Routing/RoutingOptions.cs','RoutingOptions'),
 ('CostModel:Routing:ApiEndpoints:{i}','CostModel/Routing/RoutingOptions.cs','ApiEndpoint'),
 ('CostModel:Budgets','CostModel/Budgets/BudgetOptions.cs','BudgetOptions'),
 ('CostModel:Budgets:SpendCaps:{i}','CostModel/Budgets/BudgetOptions.cs','SpendCap'),
 ('CostModel:Gossip','CostModel/Gossip/GossipOptions.cs','GossipOptions'),
 ('CostModel:Gossip:Udp','CostModel.Gossip.Udp/UdpGossipOptions.cs','UdpGossipOptions'),
 ('CostModel:Linux','CostModel.Platforms/Linux/LinuxProbeOptions.cs','LinuxProbeOptions'),
]
fixed={'CostModel:NodeId','CostModel:Gossip:MaxNodes','CostModel:Gossip:Mtu','CostModel:Gossip:Dissemination','CostModel:Gossip:Interval','CostModel:Routing:MaxAffinityKeys',
 'CostModel:Gossip:Udp:BindAddress','CostModel:Gossip:Udp:Port','CostModel:Gossip:Udp:Mtu','CostModel:Gossip:Udp:MaxQueuedDatagrams','CostModel:Gossip:Udp:MaxPeers','CostModel:Linux:ProcRoot','CostModel:Linux:SysRoot'}
def clean(doc):
    doc=re.sub(r'<see cref="([^"]+)"\s*/>', lambda m: '`'+m.group(1).split('.')[-1].replace('T:','').replace('P:','')+'`', doc)
    doc=re.sub(r'<see langword="([^"]+)"\s*/>', r'`\1`', doc)
    doc=re.sub(r'<c>(.*?)</c>', r'`\1`', doc)
    doc=re.sub(r'<para>|</para>|<i>|</i>', ' ', doc)
    doc=re.sub(r'<[^>]+>', '', doc)
    doc=html.unescape(doc)
    doc=re.sub(r'\s+',' ',doc).strip()
    return doc.replace('|','\\|')
import glob
symbols={}
for f in glob.glob(root+'**/*.cs', recursive=True):
    if '/obj/' in f: continue
    t=open(f).read()
    for cm in re.finditer(r'(?:public|internal|private) (?:static )?(?:class|sealed record|sealed class) (\w+)', t):
        pass
    for cls_m in re.finditer(r'(?:public|internal) (?:static |sealed )*(?:partial )?(?:class|record) (\w+)[^{]*\{', t):
        cname=cls_m.group(1)
        seg=t[cls_m.end():]
        for dm in re.finditer(r'(?:public|internal|private) (?:static readonly|const) [\w?]+ (\w+) = ([^;]+);|public static [\w?]+ (\w+) \{ get; \} = ([^;]+);', seg[:20000]):
            if dm.group(1) is None:
                symbols.setdefault(dm.group(3), dm.group(4).strip())
                continue
            symbols.setdefault(f'{cname}.{dm.group(1)}', dm.group(2).strip())
            symbols.setdefault(dm.group(1), dm.group(2).strip())
def value(expr, depth=0):
    expr=expr.strip()
    if depth>6: return expr
    m=re.fullmatch(r'TimeSpan\.From(Milliseconds|Seconds|Minutes|Hours|Days)\(([\d_.]+)\)', expr)
    if m:
        unit={'Milliseconds':'ms','Seconds':'s','Minutes':'min','Hours':'h','Days':'d'}[m.group(1)]
        return f'{m.group(2).replace("_",",")} {unit}'
    if re.fullmatch(r'[\d_.]+', expr): return expr.replace('_',',')
    m=re.fullmatch(r'new\(Burst: ([\d_]+), PerSecond: ([\d_]+)\)', expr)
    if m: return f'{m.group(1).replace("_",",")} at once, then {m.group(2).replace("_",",")}/s'
    if expr=='Environment.MachineName': return 'the machine name'
    if expr=='""': return '(required)'
    if re.fullmatch(r'"[^"]*"', expr): return expr
    if re.fullmatch(r'[\w.]+', expr):
        key=expr if expr in symbols else expr.split('.')[-1]
        if key in symbols and symbols[key]!=expr: return value(symbols[key], depth+1)
    return expr
out=[]
for sec,path,cls in sections:
    s=open(root+path).read()
    m=re.search(r'public sealed (?:partial )?class '+cls+r'\b[^{]*\{', s)
    if not m: m=re.search(r'public sealed record '+cls+r'\b[^{]*\{', s)
    start=m.end(); depth=1; i=start
    while depth:
        if s[i]=='{': depth+=1
        elif s[i]=='}': depth-=1
        i+=1
    body=s[start:i]
    rows=[]
    for pm in re.finditer(r'((?:\s*///[^\n]*\n)+)(?:\s*\[[^\n]*\]\n)*\s*public (?!const|static)([\w<>?,\[\] ]+?) (\w+) \{ get;[^}]*\}(?: = ([^;]+);)?', body):
        doc=' '.join(l.strip()[3:].strip() for l in pm.group(1).strip().split('\n'))
        typ,name,default=pm.group(2).strip(),pm.group(3),(pm.group(4) or '').strip()
        key=f'{sec}:{name}'
        d=clean(doc)
        default=value(default) if default else ('0' if typ in ('int','long','double') else 'false' if typ=='bool' else default)
        default=default.replace('new(StringComparer.Ordinal)','{}').replace('[.. RouteFilterNames.All]','all five').replace('[]','none')
        rows.append((key,typ,default,d,key in fixed))
    out.append((sec,cls,rows))
print('''# Configuration reference

<!-- Generated by eng/make-configuration-doc.py from the options classes; regenerate rather than edit. -->

Every key the library reads, in one `appsettings.json` section (`CostModel`), with its type, default
and meaning (from the options' own documentation, which also names each default's source).
Each component binds its own section and validates it at start (`ValidateOnStart`: a host refuses
to start and names every bad key at once). Changes to a reloadable source (a JSON file with
`reloadOnChange`) apply while running, **except the settings marked fixed**: a reload that
changes one keeps the value the process started with, logs a warning (event 6001) and counts it
on `costmodel.options.reload_refused{key}`, and the rest of the reload applies.

In code: `services.AddCostModel(configuration.GetSection("CostModel"))` binds everything below;
`services.AddCostModel(o => o.NodeId = "x").Configure<RoutingOptions>(r => ...)` sets it in code.
`AddGossip()`, `AddUdpGossipTransport()` and `AddPlatformProbes()` bind their own sections below
the one given to `AddCostModel` (`Gossip`, `Gossip:Udp`, `Linux`).

```json
{
  "CostModel": {
    "NodeId": "desk-1",
    "Collection": { "SampleInterval": "00:00:01" },
    "Routing": { "ApiEndpoints": [ { "Id": "openai:gpt-4o", "Model": "gpt-4o" } ] },
    "Budgets": { "SpendCaps": [ { "Name": "daily API budget", "Window": "1.00:00:00", "MaxDollars": 5 } ] },
    "Gossip": { "Keys": [ "<openssl rand -base64 32>" ], "Udp": { "BindAddress": "192.168.1.20", "Port": 7946, "SeedPeers": [ "192.168.1.10:7946" ] } },
    "Linux": { "ProcRoot": "/host/proc", "SysRoot": "/host/sys" }
  }
}
```

Time spans are written `[d.]hh:mm:ss[.fff]`. Lists are JSON arrays (or `Key:0`, `Key:1`, ... in
environment variables: `CostModel__Gossip__Keys__0`).
''')
for sec,cls,rows in out:
    print(f'## `{sec}` ({cls})\n')
    print('| key | type | default | fixed | meaning |')
    print('|---|---|---|---|---|')
    for key,typ,default,d,fx in rows:
        print(f'| `{key}` | {typ.replace("<","&lt;").replace(">","&gt;")} | {("`"+default+"`") if default else "(none)"} | {"**fixed**" if fx else ""} | {d} |')
    print()

import glob as _g
inst=[]
for f in sorted(_g.glob(root+'**/*.cs', recursive=True)):
    if '/obj/' in f: continue
    t=open(f).read()
    for m in re.finditer(r'Create(Counter|ObservableCounter|ObservableGauge|Histogram)<?\w*>?\("([\w.]+)",[^"]*"([^"]*)",\s*"([^"]*)"', t):
        inst.append((m.group(2), m.group(1).replace('Observable',''), m.group(3), m.group(4)))
print('## Metrics (meter `CostModel`)\n')
print('Every instrument is on the meter named `CostModel` (`CostModelMeter.Name`), created through the')
print("host's `IMeterFactory` when it registered one (`services.AddMetrics()`). Tags are in the descriptions.\n")
print('| instrument | kind | unit | what it counts |')
print('|---|---|---|---|')
for name,kind,unit,desc in sorted(set(inst)):
    print(f'| `{name}` | {kind.lower()} | `{unit}` | {desc} |')
print()
print('Rate limits (`UdpRateLimit`) bind as objects: `"PeerReceiveLimit": { "Burst": 512, "PerSecond": 100 }`.')
