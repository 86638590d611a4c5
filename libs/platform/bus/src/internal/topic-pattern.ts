/**
 * AMQP topic matching, so the in-process bus routes exactly like a RabbitMQ topic exchange:
 * words are dot-separated, `*` matches exactly one word, `#` matches zero or more words.
 */
export type TopicMatcher = (topic: string) => boolean;

export function compilePattern(pattern: string): TopicMatcher {
  const words = pattern.split('.');
  if (words.every((w) => w === '#')) return () => true;
  return (topic) => matchWords(words, topic.split('.'));
}

export function topicMatches(pattern: string, topic: string): boolean {
  return compilePattern(pattern)(topic);
}

// Dynamic programming over (pattern word, topic prefix) keeps patterns with several `#`s linear-ish
// instead of the exponential backtracking a naive recursive matcher has.
function matchWords(pattern: readonly string[], topic: readonly string[]): boolean {
  // reach[j]: the pattern words seen so far can match the first j topic words.
  let reach: boolean[] = topic.map(() => false);
  reach.push(false);
  reach[0] = true;
  for (const word of pattern) {
    const next: boolean[] = new Array<boolean>(topic.length + 1).fill(false);
    if (word === '#') {
      let any = false;
      for (let j = 0; j <= topic.length; j++) {
        any ||= reach[j] ?? false;
        next[j] = any;
      }
    } else {
      for (let j = 1; j <= topic.length; j++)
        next[j] = (reach[j - 1] ?? false) && (word === '*' || word === topic[j - 1]);
    }
    reach = next;
  }
  return reach[topic.length] ?? false;
}
