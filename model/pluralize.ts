/**
 * English plurals for Rels type names (`Client` → `Clients`, `Company` → `Companies`).
 * Only the last word of a PascalCase name changes: `TicketMessage` → `TicketMessages`.
 */

/** Irregular nouns likely in an API's type names, singular → plural. */
const IRREGULAR: Record<string, string> = {
  person: 'people',
  child: 'children',
  man: 'men',
  woman: 'women',
  mouse: 'mice',
  goose: 'geese',
  foot: 'feet',
  tooth: 'teeth',
  datum: 'data',
  medium: 'media',
  criterion: 'criteria',
  analysis: 'analyses',
  index: 'indices',
  matrix: 'matrices',
  vertex: 'vertices',
  leaf: 'leaves',
  half: 'halves',
  life: 'lives',
  knife: 'knives',
  wife: 'wives',
  photo: 'photos',
  video: 'videos',
  info: 'info',
  news: 'news',
  staff: 'staff',
  series: 'series',
  species: 'species',
  equipment: 'equipment',
}
const IRREGULAR_PLURAL = Object.fromEntries(Object.entries(IRREGULAR).map(([s, p]) => [p, s]))

/** Splits a PascalCase or camelCase name into words; an acronym stays one word (`VKId` → `VK`, `Id`). */
export function splitWords(name: string): string[] {
  return name.match(/[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+/g) ?? []
}

function matchCase(model: string, word: string): string {
  if (model === model.toUpperCase() && model.length > 1) return word.toUpperCase()
  if (model[0] === model[0]?.toUpperCase()) return word.charAt(0).toUpperCase() + word.slice(1)
  return word
}

function pluralWord(word: string): string {
  const lower = word.toLowerCase()
  const irregular = IRREGULAR[lower]
  if (irregular !== undefined) return matchCase(word, irregular)
  // An all-caps acronym (`VK`, `URL`) takes a plain lowercase s.
  if (word.length > 1 && word === word.toUpperCase()) return word + 's'
  if (/[^aeiou]y$/i.test(word)) return word.slice(0, -1) + 'ies'
  if (/(s|x|z|ch|sh)$/i.test(word)) return word + 'es'
  return word + 's'
}

function singularWord(word: string): string {
  const lower = word.toLowerCase()
  const irregular = IRREGULAR_PLURAL[lower]
  if (irregular !== undefined) return matchCase(word, irregular)
  if (/[^aeiou]ies$/i.test(word)) return word.slice(0, -3) + 'y'
  if (/(ss|us|x|z|ch|sh)es$/i.test(word)) return word.slice(0, -2)
  if (/[^s]s$/i.test(word)) return word.slice(0, -1)
  return word
}

function onLastWord(name: string, change: (word: string) => string): string {
  const words = splitWords(name)
  const last = words[words.length - 1]
  if (last === undefined || !name.endsWith(last)) return name
  return name.slice(0, name.length - last.length) + change(last)
}

/** `Client` → `Clients`, `Company` → `Companies`, `Person` → `People`, `Status` → `Statuses`, `TicketMessage` → `TicketMessages`. */
export function pluralize(word: string): string {
  return onLastWord(word, pluralWord)
}

/** The reverse of `pluralize`, for labels: `Clients` → `Client`, `Companies` → `Company`, `People` → `Person`. */
export function singularize(word: string): string {
  return onLastWord(word, singularWord)
}
