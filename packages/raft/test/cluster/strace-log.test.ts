import { parseStrace, StraceFormatError } from './strace/strace-log';

/** The strace parser behind the durability test, on lines as `strace -f -yy -xx` prints them. */
describe('parseStrace', () => {
  it('reads finished and resumed calls, and skips a call strace detached from in the middle (seen in CI: the process killed as the trace ended)', () => {
    const text = [
      '101   write(29<TCP:[127.0.0.1:1->127.0.0.1:2]>, "\\x01\\x02", 2) = 2',
      '101   fdatasync(30</tmp/x/000001.log>) = 0',
      '102   write(31<TCP:[127.0.0.1:3->127.0.0.1:4]>, "\\x03" <unfinished ...>',
      '102   <... write resumed>, 1) = 1',
      '103   write(29<TCP:[127.0.0.1:49760->127.0.0.1:39169]>, "\\x00\\x00", 2 <detached ...>',
    ].join('\n');
    const events = parseStrace(text);
    expect(events.map((e) => [e.pid, e.name, e.ret, e.data.toString('hex')])).toEqual([
      [101, 'write', 2, '0102'],
      [101, 'fdatasync', 0, ''],
      [102, 'write', 1, '03'],
    ]);
  });

  it('still refuses a finished line without a return value', () => {
    expect(() => parseStrace('101   write(29<TCP:[127.0.0.1:1->127.0.0.1:2]>, "\\x01", 1) garbage')).toThrow(StraceFormatError);
  });
});
