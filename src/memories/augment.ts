import type { MemoryWire } from './models.js';

const SECTIONS: { title: string; belongs: (m: MemoryWire) => boolean }[] = [
  { title: 'Successful memories', belongs: (m) => m.success === true },
  { title: 'Failed memories', belongs: (m) => m.success === false },
  { title: 'Other relevant memories', belongs: (m) => m.success === null },
];

/**
 * The contract's `augmented_task` text: the task, then the memories grouped as successful,
 * failed and other (empty groups left out), numbered continuously, each in ranking order.
 */
export function augmentedTask(task: string, memories: MemoryWire[]): string {
  if (memories.length === 0) return task;
  const lines = [task, '', 'Relevant memories:'];
  let n = 0;
  for (const section of SECTIONS) {
    const members = memories.filter(section.belongs);
    if (members.length === 0) continue;
    lines.push('', `${section.title}:`);
    for (const m of members) {
      n += 1;
      lines.push('', `--- Memory ${n} ---`, 'Past task:', m.task, '', 'Reflection:', m.reflection);
    }
  }
  return lines.join('\n');
}
