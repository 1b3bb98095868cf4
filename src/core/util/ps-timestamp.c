/* ps-timestamp.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ps-timestamp"

#include "config.h"

#include <string.h>

#include "ps-timestamp.h"

static const char * const month_names[] = {
  "jan", "feb", "mar", "apr", "may", "jun",
  "jul", "aug", "sep", "oct", "nov", "dec",
};

static gboolean
read_digits (const char **p,
             guint        min_digits,
             guint        max_digits,
             int         *out_value)
{
  const char *s = *p;
  guint n = 0;
  int value = 0;

  while (n < max_digits && g_ascii_isdigit (s[n]))
    {
      value = value * 10 + (s[n] - '0');
      n++;
    }
  if (n < min_digits)
    return FALSE;

  *p = s + n;
  *out_value = value;
  return TRUE;
}

/* Microseconds since the epoch of a civil time in UTC; FALSE when the
 * fields do not name a real date and time.
 */
static gboolean
civil_to_usec (int     year,
               int     month,
               int     day,
               int     hour,
               int     minute,
               double  seconds,
               gint64 *out_usec)
{
  g_autoptr(GDateTime) date_time = NULL;

  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31 ||
      hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      seconds < 0 || seconds >= 60)
    return FALSE;

  date_time = g_date_time_new_utc (year, month, day, hour, minute, seconds);
  if (date_time == NULL)
    return FALSE;

  *out_usec = g_date_time_to_unix (date_time) * G_USEC_PER_SEC +
              g_date_time_get_microsecond (date_time);
  return TRUE;
}

/* Zone suffix: nothing (UTC), Z, UTC, GMT, ±HH, ±HHMM or ±HH:MM. */
static gboolean
parse_zone (const char *s,
            gint64     *out_offset_usec)
{
  int sign;
  int hours;
  int minutes = 0;

  while (*s == ' ')
    s++;

  if (*s == '\0' || g_ascii_strcasecmp (s, "Z") == 0 ||
      g_ascii_strcasecmp (s, "UTC") == 0 || g_ascii_strcasecmp (s, "GMT") == 0)
    {
      *out_offset_usec = 0;
      return TRUE;
    }

  if (*s != '+' && *s != '-')
    return FALSE;
  sign = *s == '-' ? -1 : 1;
  s++;

  if (!read_digits (&s, 2, 2, &hours))
    return FALSE;
  if (*s == ':')
    s++;
  if (*s != '\0' && !read_digits (&s, 2, 2, &minutes))
    return FALSE;
  if (*s != '\0' || hours > 14 || minutes > 59)
    return FALSE;

  *out_offset_usec = sign * ((gint64) hours * 3600 + minutes * 60) * G_USEC_PER_SEC;
  return TRUE;
}

/* 2014/10/16 21:34:08 +0000, 2014-10-16 21:34:08 UTC, 2014-10-16T21:34:08.5+01:00,
 * 2014/10/16, 2014-10-16.
 */
static gboolean
parse_numeric (const char *s,
               gint64     *out_usec)
{
  int year, month, day;
  int hour = 0, minute = 0, second = 0;
  double fraction = 0;
  gint64 offset = 0;
  gint64 usec;
  char separator;

  if (!read_digits (&s, 4, 4, &year))
    return FALSE;
  separator = *s;
  if (separator != '/' && separator != '-')
    return FALSE;
  s++;
  if (!read_digits (&s, 1, 2, &month) || *s != separator)
    return FALSE;
  s++;
  if (!read_digits (&s, 1, 2, &day))
    return FALSE;

  if (*s == ' ' || *s == 'T' || *s == 't')
    {
      s++;
      if (!read_digits (&s, 2, 2, &hour) || *s != ':')
        return FALSE;
      s++;
      if (!read_digits (&s, 2, 2, &minute))
        return FALSE;
      if (*s == ':')
        {
          s++;
          if (!read_digits (&s, 2, 2, &second))
            return FALSE;
          if (*s == '.' || *s == ',')
            {
              double scale = 0.1;

              s++;
              if (!g_ascii_isdigit (*s))
                return FALSE;
              while (g_ascii_isdigit (*s))
                {
                  fraction += (*s - '0') * scale;
                  scale /= 10;
                  s++;
                }
            }
        }
      if (!parse_zone (s, &offset))
        return FALSE;
    }
  else if (*s != '\0')
    {
      return FALSE;
    }

  if (!civil_to_usec (year, month, day, hour, minute, second, &usec))
    return FALSE;

  /* Microsecond rounding keeps "…:08.5" and "…:08.500000" equal. */
  *out_usec = usec + (gint64) (fraction * G_USEC_PER_SEC + 0.5) - offset;
  return TRUE;
}

/* 16-Oct-2014, the form Primero v1 shows and stores date fields in. */
static gboolean
parse_day_month_year (const char *s,
                      gint64     *out_usec)
{
  int day, year;
  int month = 0;

  if (!read_digits (&s, 1, 2, &day) || *s != '-')
    return FALSE;
  s++;
  for (guint i = 0; i < G_N_ELEMENTS (month_names); i++)
    {
      if (g_ascii_strncasecmp (s, month_names[i], 3) == 0)
        {
          month = i + 1;
          break;
        }
    }
  if (month == 0)
    return FALSE;
  s += 3;
  if (*s != '-')
    return FALSE;
  s++;
  if (!read_digits (&s, 4, 4, &year) || *s != '\0')
    return FALSE;

  return civil_to_usec (year, month, day, 0, 0, 0, out_usec);
}

/**
 * ps_timestamp_parse:
 * @text: (nullable): a timestamp as Primero records write it
 * @out_usec: (out): return location for the instant, in microseconds since
 *   the Unix epoch (UTC)
 *
 * Parses the timestamp forms found in Primero records into one comparable
 * instant: Primero v1 (`2014/10/16 21:34:08 +0000`), ISO 8601 with any
 * offset or `Z`, and plain dates (`2014/10/16`, `2014-10-16`, `16-Oct-2014`),
 * which stand for midnight UTC. A time without a zone is taken as UTC.
 *
 * Returns: %TRUE if @text was understood; @out_usec is left alone otherwise
 */
gboolean
ps_timestamp_parse (const char *text,
                    gint64     *out_usec)
{
  g_autofree char *trimmed = NULL;
  g_autoptr(GTimeZone) utc = NULL;
  g_autoptr(GDateTime) date_time = NULL;
  gint64 usec;

  g_return_val_if_fail (out_usec != NULL, FALSE);

  if (text == NULL)
    return FALSE;

  trimmed = g_strstrip (g_strdup (text));
  if (*trimmed == '\0' || strlen (trimmed) > 64)
    return FALSE;

  if (parse_numeric (trimmed, &usec) || parse_day_month_year (trimmed, &usec))
    {
      *out_usec = usec;
      return TRUE;
    }

  /* The rarer ISO 8601 forms: week dates, ordinal dates, basic format. */
  utc = g_time_zone_new_utc ();
  date_time = g_date_time_new_from_iso8601 (trimmed, utc);
  if (date_time == NULL)
    return FALSE;

  *out_usec = g_date_time_to_unix (date_time) * G_USEC_PER_SEC +
              g_date_time_get_microsecond (date_time);
  return TRUE;
}

/**
 * ps_timestamp_format_iso8601:
 * @usec: an instant in microseconds since the Unix epoch
 *
 * Formats @usec as ISO 8601 in UTC, with a fraction only when there is one,
 * e.g. `2015-03-04T13:00:00Z`.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL when @usec is out
 *   of the range of dates
 */
char *
ps_timestamp_format_iso8601 (gint64 usec)
{
  g_autoptr(GDateTime) seconds = NULL;
  g_autoptr(GDateTime) date_time = NULL;
  gint64 whole = usec / G_USEC_PER_SEC;
  gint64 rest = usec % G_USEC_PER_SEC;

  if (rest < 0)
    {
      whole--;
      rest += G_USEC_PER_SEC;
    }

  seconds = g_date_time_new_from_unix_utc (whole);
  if (seconds == NULL)
    return NULL;
  date_time = g_date_time_add (seconds, rest);
  if (date_time == NULL)
    return NULL;

  if (rest == 0)
    return g_date_time_format (date_time, "%Y-%m-%dT%H:%M:%SZ");
  return g_date_time_format (date_time, "%Y-%m-%dT%H:%M:%S.%fZ");
}
