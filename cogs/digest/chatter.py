"""Sentences that say nothing of the question: thanks, apologies, greetings, "I'll answer later".

Every thread has them ("Merci pour la question !", "Sorry I'm late to this", "Je reviendrai
répondre ce soir", "+1, same here"), and written by many members of many professions they
cluster into a theme heard across the whole circle: a digest headed "Thanks for the question"
is one no host would post. A sentence is chatter when every word it has is a function word or
a word of the thread's own small talk (below; never a word of the round's subject, so "I love
my job" stays), so a sentence with one word of substance
("Thanks for the question, the on-call phone is my problem") is kept: losing a member's point
costs more than keeping a pleasantry, which the clustering then leaves among the fragments.
"""

from __future__ import annotations

import re
from typing import Final

from cogs.digest.labelling import FUNCTION_WORDS
from cogs.digest.language import _words, fold

#: The words of the thread's small talk, folded (lowercase, no accents): thanks and praise of
#: the question or the circle, apologies for being late or brief, answering later or elsewhere,
#: greetings, plain agreement, laughter. No word a theme could be about ("time", "phone").
CHATTER_WORDS: Final = frozenset(
    fold(word)
    for word in _words(
        # French
        "vais vas going gonna oops oups typo typos faute fautes perfect parfait timing honest "
        "honnête honnêtes organisers organizers organisateurs organisatrices français anglais "
        "french english terrible love adore aime merci mercis remercie remercier grand grands "
        "gros bravo super génial géniale chouette top excellent excellente excellentes "
        "excellents belle beau bel bonne bon bonnes bons intéressant intéressante intéressants "
        "intéressantes passionnant passionnante pertinent pertinente enrichissant enrichissante "
        "initiative initiatives idée idées question questions sujet sujets fil discussion "
        "discussions échange échanges cercle désolé désolée désolés désolées pardon excusez "
        "excuse excuses retard tard tardif bref vite rapidement rapide court courte longue long "
        "réponse réponses répondre répondrai répondrais réponds répond réfléchir réfléchis "
        "réfléchirai reviendrai reviens revenir repasserai repasse repasser bientôt demain "
        "occupé occupée débordé débordée bonjour bonsoir salut coucou hello monde accord pareil "
        "pareille idem exactement totalement absolument clairement carrément oui ouais mdr lol "
        "haha ahah hihi autres commentaires commentaire partager partagé rejoindre rejoins "
        "rejoint premier première essaie essayer dire dis dit ajoute ajouter rajoute rajouter "
        "truc petit petite mot mots peut-être sûr ok okay bah ben voilà hâte suivre suit "
        "suivrai avis pense penser pensé vois voir vu participer participe participé ravi ravie "
        "plaisir vrai vraie tous toutes coup cœur encore moi"
        # English
        " thanks thank thx ty cheers grateful great good nice interesting fascinating excellent "
        "brilliant lovely awesome cool wow amazing fantastic wonderful initiative idea ideas "
        "question questions topic topics thread threads circle conversation discussion "
        "discussions sorry apologies apologise apologize late later brief quick quickly short "
        "long answer answers answering answered reply replies replying respond come coming back "
        "soon tomorrow busy hello hi hey everyone everybody folks guys all agree agreed same "
        "exactly totally absolutely definitely yes yeah yep yup no nope lol haha hahaha others "
        "comments comment share join joining joined first post posting bump following follow "
        "tough hard difficult think thinking thought let pass skip maybe perhaps sure okay ok "
        "well hmm um try trying say saying add adding chime chiming properly here there glad "
        "pleasure welcome true indeed point points agreeing asking ask asked one"
    )
)
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
#: "j'", "l'", "qu'"... and "'ll", "'m", "n't": the word is what is left.
_CLITIC_RE: Final = re.compile(
    r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'|'(?:ll|m|s|re|ve|d)\b|n't\b"
)
#: Longer sentences carry something even in small-talk words.
MAX_WORDS: Final = 16


def is_chatter(sentence: str) -> bool:
    """Whether ``sentence`` is thread small talk only (see the module's docstring)."""
    text = _CLITIC_RE.sub(" ", sentence.lower().replace("’", "'"))
    words = _WORD_RE.findall(text)
    if not words or len(words) > MAX_WORDS:
        return False
    return all(w in FUNCTION_WORDS or fold(w) in CHATTER_WORDS for w in words)
