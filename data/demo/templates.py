"""Page templates of the crawled outlets, reconstructed from the last-known markup documented in
/work/shared/reference/sources.md (the sites could not be reached when these were written).

Used by data/demo/build_recording.py (the demo WARC) and, through it, for the reconstructed test
fixtures in tests/fixtures/. Every page carries
  <meta name="lawwatch-provenance" content="reconstructed 2026-11-21 from <source>">
Only the markup is reconstructed; the article texts are real (seeds / demo_articles.jsonl), and
nothing here invents a text. Pure functions: same input, same bytes.
"""
from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from html import escape
from typing import Iterable

RECONSTRUCTED_ON = "2026-11-21"

RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря"]


def _e(s: str | None) -> str:
    return escape(s or "", quote=True)


def provenance(src: str) -> str:
    return (f'<meta name="lawwatch-provenance" content="reconstructed {RECONSTRUCTED_ON} '
            f'from {_e(src)}">')


def _paras(paras: Iterable[str]) -> str:
    return "\n".join(f"<p>{_e(p)}</p>" for p in paras)


def rfc2822(d: dt.datetime) -> str:
    return format_datetime(d)


# ---------------------------------------------------------------------------------------------
# 24.kg

def kg24_article(*, url: str, lang: str, title: str, paras: list[str], published: dt.datetime,
                 time_known: bool, author: str | None, section: tuple[str, str] | None,
                 related: list[tuple[str, str]], src: str, views: int = 0) -> str:
    """Article page: schema.org NewsArticle microdata (sources.md, "24.kg")."""
    place = "Бишкек - 24.kg" if lang == "ru" else "Bishkek - 24.kg news agency "
    when = f"{published.day} {RU_MONTHS[published.month - 1]} {published.year}"
    if time_known:
        when = f"{published:%H:%M}, {when}"
    author_html = (f', <span itemprop="author" itemscope itemtype="http://schema.org/Person">'
                   f'<span itemprop="name">{_e(author)}</span></span>') if author else ""
    cat = (f'<div class="newsCat" itemprop="articleSection"><a href="{_e(section[0])}">'
           f'{_e(section[1])}</a></div>') if section else ""
    rel_title = "Читайте по теме" if lang == "ru" else "Related"
    rel = ""
    if related:
        links = "".join(f'<li><a href="{_e(h)}">{_e(t)}</a></li>' for h, t in related)
        rel = f'<div class="poTeme"><div class="title">{rel_title}</div><ul>{links}</ul></div>'
    currency = ('<div class="currency"><div>USD 87.44</div><div>EUR 94.43</div>'
                '<div>RUB 0.97</div></div>') if lang == "en" else ""
    short = url.rstrip("/").rsplit("/", 1)[-1].split("_", 1)[0]
    footer = ""
    if lang == "en":
        footer = (f'<div class="linkView">link: https://24.kg/english/{short}/</div>'
                  f'<div class="views">views: {views}</div><div class="print">Print</div>'
                  '<div class="sideTitle">Related</div><div class="sideTitle">Popular</div>')
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{_e(title)} - 24.kg</title>
<link rel="canonical" href="{_e(url)}">
{provenance(src)}
</head><body>
<header class="header"><a class="logo" href="/">24.kg</a>{currency}
<nav class="menu"><a href="/">Главная</a></nav></header>
<div id="main" class="container"><div class="col-md-8">
<div class="newsBlock" itemscope itemtype="http://schema.org/NewsArticle" itemid="{_e(url)}">
{cat}
<h1 class="newsTitle" itemprop="name">{_e(title)}</h1>
<div class="newsDate"><span itemprop="datePublished" content="{published:%Y-%m-%d}">{when}</span>, {place}{author_html}</div>
<div class="cont" itemprop="articleBody">
{_paras(paras)}
{rel}
</div>
{footer}
</div></div>
<aside class="col-md-4 sidebar"><div class="sideTitle">Popular</div></aside></div>
<footer class="footer">© 24.kg</footer>
</body></html>
"""


def rss(*, title: str, link: str, description: str, items: list[dict], src: str,
        lang: str = "ru") -> str:
    """RSS 2.0 channel. items: title, link, description (HTML allowed), pubDate (datetime),
    optional guid, category, updated (datetime -> atom:updated)."""
    out = []
    for it in items:
        extra = ""
        if it.get("category"):
            extra += f"<category>{_e(it['category'])}</category>"
        if it.get("updated"):
            extra += f"<atom:updated>{it['updated'].isoformat()}</atom:updated>"
        out.append(f"""<item>
<title>{_e(it['title'])}</title>
<link>{_e(it['link'])}</link>
<guid isPermaLink="true">{_e(it.get('guid') or it['link'])}</guid>
<description><![CDATA[{it['description']}]]></description>
<pubDate>{rfc2822(it['pubDate'])}</pubDate>{extra}
</item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- reconstructed {RECONSTRUCTED_ON} from {_e(src)} -->
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>{_e(title)}</title><link>{_e(link)}</link><description>{_e(description)}</description>
<language>{lang}</language><ttl>600</ttl>
{chr(10).join(out)}
</channel></rss>
"""


# ---------------------------------------------------------------------------------------------
# The Moscow Times

APPEAL = [
    "A Message from The Moscow Times:",
    "Dear readers,",
    "We are facing unprecedented challenges. Russia's Prosecutor General's Office has designated "
    "The Moscow Times as an \"undesirable\" organization, criminalizing our work and putting our "
    "staff at risk of prosecution. This follows our earlier unjust labeling as a \"foreign agent.\"",
    "Remind me later.",
]


def mt_article(*, url: str, lang: str, title: str, subtitle: str | None, label: str,
               authors: list[str], published: dt.datetime, shown: dt.datetime,
               lead: str | None, paras: list[str], tags: list[str], appeal: list[str] | None,
               src: str) -> str:
    """Article page, 2024 site template (sources.md, "The Moscow Times")."""
    by = "".join(f'<a class="byline__author__name" href="/author/{i}">{_e(a)}</a>'
                 for i, a in enumerate(authors))
    blocks = "\n".join(
        f'<div class="article__block article__block--html"><p>{_e(p)}</p></div>' for p in paras)
    if paras:
        mid = len(paras) // 2
        parts = blocks.split("\n")
        parts.insert(mid, '<div class="article__block article__block--newsletter">'
                          '<p>Subscribe to our weekly newsletter</p><form><input></form></div>')
        blocks = "\n".join(parts)
    appeal_html = ""
    if appeal:
        appeal_html = ('<div class="article__block article__block--html">'
                       + "".join(f"<p>{_e(p)}</p>" for p in appeal) + "</div>"
                       '<div class="banner">Support The Moscow Times!</div>')
    tags_html = ("".join(f'<a href="/tag/{_e(t)}">{_e(t)}</a>' for t in tags))
    ld = ('{"@context":"https://schema.org","@type":"NewsArticle","headline":%s,'
          '"datePublished":"%s"}') % (_json_str(title), published.isoformat())
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{_e(title)} - The Moscow Times</title>
<link rel="canonical" href="{_e(url)}">
<meta name="news_keywords" content="{_e(', '.join(tags))}">
<script type="application/ld+json">{ld}</script>
{provenance(src)}
</head><body>
<div class="container"><div class="row"><main class="col">
<article class="article">
<header class="article__header">
<div class="article__label">{_e(label)}</div>
<h1>{_e(title)}</h1>
{f'<h2>{_e(subtitle)}</h2>' if subtitle else ''}
</header>
<div class="article__byline byline"><div class="byline__details">{by}
<time class="byline__datetime" datetime="{shown.isoformat()}">{shown:%b. %d, %Y}</time></div></div>
<div class="article__content">
{f'<div class="article__intro"><p>{_e(lead)}</p></div>' if lead else ''}
{blocks}
{appeal_html}
</div>
{f'<div class="article__tags">{tags_html}</div>' if tags else ''}
</article></main>
<aside class="sidebar"><div class="sidebar__title">Most read</div></aside></div></div>
</body></html>
"""


def _json_str(s: str) -> str:
    import json
    return json.dumps(s, ensure_ascii=False)


def mt_ru_listing(*, cards: list[dict], src: str) -> str:
    """Russian service front page cards (sources.md). cards: url, headline, teaser."""
    body = "\n".join(f"""<div class="article-excerpt-default">
<a class="article-excerpt-default__link" href="{_e(c['url'])}">
<p class="article-excerpt-default__headline">{_e(c['headline'])}</p>
<div class="article-excerpt-default__teaser">{_e(c['teaser'])}</div></a></div>""" for c in cards)
    return f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>The Moscow Times — независимые новости</title>
{provenance(src)}
</head><body><main class="container">{body}</main></body></html>
"""


# ---------------------------------------------------------------------------------------------
# courteurasian.org

def sitemap(urls: list[tuple[str, str]], src: str) -> str:
    items = "\n".join(f"<url><loc>{_e(u)}</loc><lastmod>{_e(m)}</lastmod></url>" for u, m in urls)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- reconstructed {RECONSTRUCTED_ON} from {_e(src)} -->
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{items}
</urlset>
"""


def case_card(*, url: str, title: str, fields: list[tuple[str, str]], summaries: list[str],
              documents: list[tuple[str, str, str]], src: str) -> str:
    """Case card (sources.md, "courteurasian.org"). documents: (dd.mm.yyyy, title, href)."""
    items = "\n".join(f'<div class="case-card__item"><div class="case-card__ttl">{_e(k)}</div>'
                      f"<p>{_e(v)}</p></div>" for k, v in fields)
    summ = "\n".join(f'<div class="show-hide-text"><p>{_e(s)}</p></div>' for s in summaries)
    rows = "\n".join(f'<tr><td>{_e(d)}</td><td><a href="{_e(h)}" target="_blank">{_e(t)}</a>'
                     f"</td></tr>" for d, t, h in documents)
    return f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>{_e(title)} — Суд ЕАЭС</title>
<link rel="canonical" href="{_e(url)}">
{provenance(src)}
</head><body><div class="page">
<h1 class="page__title">{_e(title)}</h1>
<div class="case-card">{items}</div>
{summ}
<div class="case-docs"><table class="table"><tbody>{rows}</tbody></table></div>
</div></body></html>
"""


# ---------------------------------------------------------------------------------------------
# sozd.duma.gov.ru

def bill_card(*, number: str, name: str, comment: str | None, passport: list[tuple[str, str]],
              timeline: list[tuple[str, str, str]], src: str) -> str:
    """timeline: (header, dd.mm.yyyy, event)."""
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in passport)
    items = "\n".join(f"""<div class="ch-item"><div class="ch-item-header">{_e(h)}</div>
<span class="hron_date">{_e(d)}</span><div class="ch-item-event">{_e(e)}</div></div>"""
                      for h, d, e in timeline)
    return f"""<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>№{_e(number)} — СОЗД</title>
<link rel="canonical" href="https://sozd.duma.gov.ru/bill/{_e(number)}">
{provenance(src)}
</head><body><div class="bill-card">
<h1>Законопроект № <span id="number_oz_id">{_e(number)}</span></h1>
<span id="oz_name">{_e(name)}</span>
{f'<p id="oz_name_comment">{_e(comment)}</p>' if comment else ''}
<div id="opc_hild"><table>{rows}</table></div>
<div id="bh_hron">{items}</div>
</div></body></html>
"""


# ---------------------------------------------------------------------------------------------
# Generic official news sites (мвд.рф, mlsp.gov.kg): plain article markup

def listing(*, title: str, links: list[tuple[str, str, str]], src: str, lang: str = "ru") -> str:
    """links: (href, title, date text)."""
    cards = "\n".join(f'<div class="sl-item"><div class="sl-item-date">{_e(d)}</div>'
                      f'<div class="sl-item-title"><a href="{_e(h)}">{_e(t)}</a></div></div>'
                      for h, t, d in links)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{_e(title)}</title>
{provenance(src)}
</head><body><nav class="menu"><a href="/">Главная</a> <a href="/news">Новости</a></nav>
<main><h1>{_e(title)}</h1><div class="news-list">{cards}</div></main>
<footer>© {_e(title)}</footer></body></html>
"""


def plain_article(*, url: str, site: str, title: str, paras: list[str], published: dt.datetime,
                  src: str, lang: str = "ru") -> str:
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{_e(title)} — {_e(site)}</title>
<link rel="canonical" href="{_e(url)}">
<meta property="og:title" content="{_e(title)}">
<meta property="article:published_time" content="{published.isoformat()}">
{provenance(src)}
</head><body><nav class="menu"><a href="/">Главная</a> <a href="/news">Новости</a></nav>
<main><article class="article"><h1>{_e(title)}</h1>
<div class="article-date"><time datetime="{published.isoformat()}">{published:%d.%m.%Y}</time></div>
<div class="article-text">
{_paras(paras)}
</div></article></main>
<footer>© {_e(site)}</footer></body></html>
"""


def robots(lines: list[str]) -> str:
    return "\n".join(["User-agent: *", *lines, ""])
