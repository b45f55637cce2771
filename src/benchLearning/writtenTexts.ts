/**
 * Written texts for the MiniLM variant of the learning benchmark: per cluster, paraphrases of a
 * task, one helpful memory worded differently from them, lures that echo the task's words but
 * give advice that fails, and neutral memories on the same topic. Set-up checks (over HTTP) that
 * the embedder really puts the lures closer to the tasks than the helpful memory.
 */
export interface WrittenCluster {
  tasks: string[];
  helpful: { task: string; reflection: string };
  lures: { task: string; reflection: string }[];
  neutral: { task: string; reflection: string }[];
}

export const WRITTEN_CLUSTERS: WrittenCluster[] = [
  {
    tasks: [
      'Count the orders placed in March from the orders table',
      'How many orders were placed in March? Use the orders table',
      'Give the number of March orders in the orders table',
      'Count March orders in the orders table',
    ],
    helpful: { task: 'Monthly totals need a date range filter before aggregation', reflection: 'Filter order_date to the month first, then count.' },
    lures: [
      { task: 'Count the orders placed in March from the orders table quickly', reflection: 'Count every row of the orders table; it only holds March.' },
      { task: 'How many orders were placed in March in the orders table', reflection: 'Use the cached total in the stats table instead.' },
      { task: 'Count the March orders in the orders table', reflection: 'Group by customer and count the groups.' },
    ],
    neutral: [
      { task: 'List the columns of a SQL table', reflection: 'Query information_schema.columns.' },
      { task: 'Export query results to a CSV file', reflection: 'Use COPY ... TO with CSV HEADER.' },
    ],
  },
  {
    tasks: [
      'Reset a forgotten password for a user account in the admin panel',
      'A user forgot their password; reset it from the admin panel',
      'Use the admin panel to reset the password of a user who forgot it',
      'Reset the user account password in the admin panel',
    ],
    helpful: { task: 'Credential recovery goes through the emailed one-time link', reflection: 'Send the reset link; never set a password by hand.' },
    lures: [
      { task: 'Reset a forgotten password for a user account in the admin panel directly', reflection: 'Type a new password into the admin form and tell the user.' },
      { task: 'Reset the password of a user account from the admin panel', reflection: 'Delete the account and create it again.' },
      { task: 'A user forgot the password of their account; reset it in the admin panel', reflection: 'Copy the password hash from another account.' },
    ],
    neutral: [
      { task: 'Change the display name of a user', reflection: 'Edit the profile page.' },
      { task: 'Enable two-factor authentication', reflection: 'Open security settings and scan the QR code.' },
    ],
  },
  {
    tasks: [
      'Fix the failing unit test for the date parser after the timezone change',
      'The date parser unit test fails since the timezone change; fix it',
      'Repair the broken date parser test caused by the timezone change',
      'After the timezone change the date parser test fails; make it pass',
    ],
    helpful: { task: 'Clock-dependent assertions should pin an explicit UTC offset', reflection: 'Construct dates with an explicit offset in the test fixture.' },
    lures: [
      { task: 'Fix the failing unit test for the date parser after the timezone change by skipping it', reflection: 'Mark the test as skipped.' },
      { task: 'The date parser unit test fails after the timezone change', reflection: 'Update the expected value to what the test prints now.' },
      { task: 'Fix the date parser test failing since the timezone change', reflection: 'Set the machine timezone in the CI image.' },
    ],
    neutral: [
      { task: 'Speed up the slow test suite', reflection: 'Run tests in parallel.' },
      { task: 'Add a lint rule for unused imports', reflection: 'Enable no-unused-vars.' },
    ],
  },
  {
    tasks: [
      'Deploy the web service to production without downtime',
      'Roll out the new web service version to production with zero downtime',
      'Ship the web service to production and avoid any downtime',
      'Release the web service into production without downtime',
    ],
    helpful: { task: 'Gradual rollouts keep old instances serving until health checks pass', reflection: 'Use a rolling update gated on readiness probes.' },
    lures: [
      { task: 'Deploy the web service to production without downtime at night', reflection: 'Stop all instances, then start the new version.' },
      { task: 'Deploy the new web service version to production without downtime', reflection: 'Overwrite the files on the running servers.' },
      { task: 'Roll out the web service to production with no downtime', reflection: 'Restart every instance at once after the copy.' },
    ],
    neutral: [
      { task: 'Rotate the log files of a service', reflection: 'Configure logrotate.' },
      { task: 'Monitor CPU usage of the servers', reflection: 'Export node metrics to Prometheus.' },
    ],
  },
  {
    tasks: [
      'Translate the product description from English to German',
      'Render the English product description in German',
      'Produce a German version of the English product description',
      'Translate this English product description into German',
    ],
    helpful: { task: 'Localisation keeps brand names and units, adapting tone to the market', reflection: 'Keep the brand name; use formal Sie; convert units.' },
    lures: [
      { task: 'Translate the product description from English to German word by word', reflection: 'Translate each word literally, in the same order.' },
      { task: 'Translate the English product description to German', reflection: 'Translate the brand name too.' },
      { task: 'Translate the product description from English into German', reflection: 'Use informal du throughout.' },
    ],
    neutral: [
      { task: 'Summarise a customer review', reflection: 'Keep the main complaint.' },
      { task: 'Write a product title', reflection: 'Lead with the brand.' },
    ],
  },
  {
    tasks: [
      'Plot the monthly revenue as a line chart',
      'Draw a line chart of revenue per month',
      'Make a line chart showing monthly revenue',
      'Chart the revenue of each month as a line',
    ],
    helpful: { task: 'Time series visuals need the months sorted chronologically on the x axis', reflection: 'Sort by month as a date, not as text, before plotting.' },
    lures: [
      { task: 'Plot the monthly revenue as a line chart in a notebook', reflection: 'Sort the months alphabetically.' },
      { task: 'Plot monthly revenue as a line chart', reflection: 'Plot the cumulative revenue instead.' },
      { task: 'Draw the monthly revenue as a line chart', reflection: 'Use a pie chart with one slice per month.' },
    ],
    neutral: [
      { task: 'Compute the median of a column', reflection: 'Use the median function.' },
      { task: 'Load a CSV file into a dataframe', reflection: 'Use read_csv.' },
    ],
  },
];
